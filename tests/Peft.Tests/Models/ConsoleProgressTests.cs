using Peft.Terminal;

namespace Peft.Tests.Models;

public sealed class ConsoleProgressTests
{
    private sealed class FakeClock
    {
        public TimeSpan Now { get; set; }
        public TimeSpan Get() => Now;
    }

    [Fact]
    public void Redirected_output_gets_a_plain_line_per_interval_and_one_at_the_end()
    {
        var clock = new FakeClock();
        var output = new StringWriter();
        const long MB = 1 << 20;
        using (var bar = new ConsoleProgress("ViT-B-16.pt", 100 * MB, "B", output, interactive: false,
                   lineInterval: TimeSpan.FromSeconds(5), clock: clock.Get))
        {
            bar.Report(0);
            for (int s = 1; s <= 12; s++)
            {
                clock.Now = TimeSpan.FromSeconds(s);
                bar.Report(s * 2 * MB); // 2 MB/s
            }
        }

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal(3, lines.Length); // at 5 s, at 10 s, final
        Assert.DoesNotContain('\r', output.ToString().Replace("\r\n", "\n"));
        Assert.Equal("ViT-B-16.pt   10%  10.0/100.0 MB  2.0 MB/s  ETA 00:45", lines[0]);
        Assert.StartsWith("ViT-B-16.pt   24%  24.0/100.0 MB  2.0 MB/s", lines[2]);
        Assert.EndsWith("(incomplete)", lines[2]);
    }

    [Fact]
    public void Terminal_output_redraws_one_line_in_place()
    {
        var clock = new FakeClock();
        var output = new StringWriter();
        using (var bar = new ConsoleProgress("encode", 200, "images", output, interactive: true, clock: clock.Get))
        {
            bar.Report(0);
            clock.Now = TimeSpan.FromSeconds(1);
            bar.Report(50);
            clock.Now = TimeSpan.FromSeconds(1.05); // within the redraw interval: not drawn
            bar.Report(60);
            clock.Now = TimeSpan.FromSeconds(2);
            bar.Report(200);
        }

        var text = output.ToString();
        Assert.Equal(4, text.Count(c => c == '\r')); // 0, 50, 200 and the final redraw (60 skipped)
        Assert.Contains(" 25% [######..................]  50/200 images  50.0 images/s  ETA 00:03", text);
        Assert.Contains("100% [########################]  200/200 images", text);
        Assert.EndsWith(Environment.NewLine, text);
    }

    [Fact]
    public void A_message_on_a_terminal_clears_the_bar_line_and_redraws_the_bar_below()
    {
        var output = new StringWriter { NewLine = "\n" };
        var bar = new ConsoleProgress("f", 100, "items", output, interactive: true, clock: () => TimeSpan.Zero);
        bar.Report(40);
        int before = output.ToString().Length;

        bar.Message("retrying");

        var written = output.ToString()[before..];
        var drawn = " 40% [##########..............]  40/100 items";
        Assert.Equal("\r" + new string(' ', ("f  " + drawn).Length) + "\rretrying\n\rf  " + drawn, written);
    }

    [Fact]
    public void Unknown_total_shows_the_amount_only()
    {
        var clock = new FakeClock();
        var bar = new ConsoleProgress("x", null, "B", new StringWriter(), interactive: false, clock: clock.Get);
        bar.Report(0);
        clock.Now = TimeSpan.FromSeconds(2);
        bar.Report(3 << 20);
        Assert.Equal("x  3.0 MB  1.5 MB/s", bar.Render());
        bar.Total = 6 << 20;
        Assert.Equal("x   50%  3.0/6.0 MB  1.5 MB/s  ETA 00:02", bar.Render());
    }
}
