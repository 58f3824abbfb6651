using System.Text.RegularExpressions;
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

    // The lines a terminal is given, without the ANSI control sequences that place the live display (a line written
    // above the display starts after a carriage return and a cursor-up).
    private static string Visible(string text) => Regex.Replace(text, "\u001b\\[[0-9;?]*[A-Za-z]|\u001b\\][^\u0007]*\u0007", "");

    [Fact]
    public void Terminal_output_is_a_live_bar_that_leaves_its_final_line()
    {
        var clock = new FakeClock();
        var output = new StringWriter { NewLine = "\n" };
        string frame;
        using (var bar = new ConsoleProgress("encode", 200, "images", output, interactive: true, clock: clock.Get))
        {
            bar.Report(0);
            clock.Now = TimeSpan.FromSeconds(1);
            bar.Report(50);
            clock.Now = TimeSpan.FromSeconds(1.05); // within the redraw interval: the text is not recomputed
            bar.Report(60);
            Assert.Equal(" 25%  50/200 images  50.0 images/s  ETA 00:03", bar.Details);
            LiveBars.For(output).Refresh();
            frame = output.ToString();
            clock.Now = TimeSpan.FromSeconds(2);
            bar.Report(200);
        }

        Assert.Contains("\u001b[", frame); // drawn in place with control sequences, not as a new line per update
        Assert.Contains("encode", Visible(frame));
        Assert.Contains(" 25%  50/200 images  50.0 images/s  ETA 00:03", Visible(frame));
        var lines = Visible(output.ToString()).Split('\n', '\r').Select(l => l.TrimEnd()).ToList();
        Assert.Contains(lines, l => l.StartsWith("encode  100%  200/200 images", StringComparison.Ordinal)); // the final line stays
    }

    [Fact]
    public void Bars_alive_at_the_same_time_stack_in_one_display()
    {
        var output = new StringWriter { NewLine = "\n" };
        using var outer = new ConsoleProgress("cells", 4, "cells", output, interactive: true, clock: () => TimeSpan.Zero);
        outer.Report(1);
        string frame;
        using (var inner = new ConsoleProgress("fit coop", 10, "epochs", output, interactive: true, clock: () => TimeSpan.Zero))
        {
            inner.Report(3);
            int before = output.ToString().Length;
            LiveBars.For(output).Refresh();
            frame = Visible(output.ToString()[before..]);
        }
        var rows = frame.Split('\n', '\r');
        Assert.Contains(rows, r => r.Contains("cells") && r.Contains(" 25%  1/4 cells"));
        Assert.Contains(rows, r => r.Contains("fit coop") && r.Contains(" 30%  3/10 epochs"));
        Assert.Contains("fit coop   30%  3/10 epochs  (incomplete)", Visible(output.ToString()).Split('\n', '\r').Select(l => l.TrimEnd()));
    }

    [Fact]
    public void A_message_on_a_terminal_goes_above_the_live_bars()
    {
        var output = new StringWriter { NewLine = "\n" };
        using (var bar = new ConsoleProgress("f", 100, "items", output, interactive: true, clock: () => TimeSpan.Zero))
        {
            bar.Report(40);
            bar.Message("retrying");
        }
        var lines = Visible(output.ToString()).Split('\n', '\r').Select(l => l.TrimEnd()).ToList();
        int message = lines.IndexOf("retrying"), final = lines.IndexOf("f   40%  40/100 items  (incomplete)");
        Assert.True(message >= 0 && final > message, Visible(output.ToString()));
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
