using Peft.Reporting;
using Peft.Reporting.Plots;
using SkiaSharp;
using static Peft.Tests.Reporting.ReportCells;
using Peft.Results;

namespace Peft.Tests.Reporting;

public class AccuracyPlotTests
{
    static ExperimentSummary Summary(List<Peft.Results.CellResult>? cells = null) =>
        ExperimentSummary.Build(cells ?? Standard(), new ReportOptions("unused") { Title = "Demo" });

    static int CountExact(SKBitmap bitmap, SKColor color, SKRectI? region = null)
    {
        var r = region ?? new SKRectI(0, 0, bitmap.Width, bitmap.Height);
        int n = 0;
        for (int y = r.Top; y < r.Bottom; y++)
            for (int x = r.Left; x < r.Right; x++)
                if (bitmap.GetPixel(x, y) == color) n++;
        return n;
    }

    [Fact]
    public void Png_decodes_at_900_by_600_with_every_method_colour_inside_the_plot_area()
    {
        byte[] png = AccuracyPlot.Render(Summary(), AccuracyMetric.Top1, null);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal((900, 600), (bitmap.Width, bitmap.Height));
        var plotArea = new SKRectI(80, 58, 688, 524);
        // zero-shot (flat: the dashed line) and adapter (line and markers) in their exact palette colours
        Assert.True(CountExact(bitmap, PlotPalette.ForMethod("zero-shot"), plotArea) > 200);
        Assert.True(CountExact(bitmap, PlotPalette.ForMethod("adapter"), plotArea) > 200);
        Assert.Equal(0, CountExact(bitmap, PlotPalette.ForMethod("coop")));
    }

    [Fact]
    public void Text_renders_as_glyphs_in_the_title_and_axis_label_areas()
    {
        using var bitmap = SKBitmap.Decode(AccuracyPlot.Render(Summary(), AccuracyMetric.Top1, "A"));
        int Dark(SKRectI r)
        {
            int n = 0;
            for (int y = r.Top; y < r.Bottom; y++)
                for (int x = r.Left; x < r.Right; x++)
                    if (bitmap.GetPixel(x, y).Red < 100) n++;
            return n;
        }
        int title = Dark(new SKRectI(300, 10, 480, 50)), xLabel = Dark(new SKRectI(100, 555, 680, 590));
        // glyphs, not nothing and not tofu boxes filling the band
        Assert.InRange(title, 15, 900);
        Assert.InRange(xLabel, 300, 6000);
    }

    [Fact]
    public void Same_input_gives_the_same_bytes_and_a_different_input_different_bytes()
    {
        var a = AccuracyPlot.Render(Summary(), AccuracyMetric.Top1, null);
        var b = AccuracyPlot.Render(Summary(), AccuracyMetric.Top1, null);
        Assert.Equal(a, b);
        var cells = Standard();
        cells[^1] = cells[^1] with { TestTop1 = 40 };
        Assert.NotEqual(a, AccuracyPlot.Render(Summary(cells), AccuracyMetric.Top1, null));
    }

    [Fact]
    public void Missing_points_and_a_single_shots_value_still_render()
    {
        var cells = Standard();
        cells.RemoveAll(c => c is { Method: "adapter", Dataset: "B", Shots: 16 });
        using var withGap = SKBitmap.Decode(AccuracyPlot.Render(Summary(cells), AccuracyMetric.Top1, null));
        Assert.True(CountExact(withGap, PlotPalette.ForMethod("adapter")) > 20);
        var oneShot = Standard().Where(c => c.Shots == 1).ToList();
        using var single = SKBitmap.Decode(AccuracyPlot.Render(Summary(oneShot), AccuracyMetric.MeanPerClass, "B"));
        Assert.Equal(900, single.Width);
    }

    [Theory]
    [InlineData(55.0, 66.0)]
    [InlineData(49.99, 50.01)]
    [InlineData(0.0, 100.0)]
    public void Axis_ticks_cover_the_range_with_round_steps(double low, double high)
    {
        var axis = AxisTicks.Covering(low, high);
        Assert.True(axis.Min <= low && axis.Max >= high);
        Assert.Contains(axis.Step / Math.Pow(10, Math.Floor(Math.Log10(axis.Step))), new[] { 1, 2, 2.5, 5 });
        Assert.InRange(axis.Values.Count, 3, 12);
    }

    [Fact]
    public void Tick_labels_show_every_tick_exactly()
    {
        var quarter = new AxisTicks(10, 20, 2.5);
        Assert.Equal(["10.0", "12.5", "15.0", "17.5", "20.0"], quarter.Values.Select(quarter.Label).ToArray());
        Assert.Equal(2, new AxisTicks(0, 1, 0.25).Decimals);
        Assert.Equal(0, new AxisTicks(0, 100, 20).Decimals);
        Assert.Equal(1, new AxisTicks(40, 41, 0.2).Decimals);
        var covering = AxisTicks.Covering(10.3, 24.1);
        var labels = covering.Values.Select(covering.Label).ToArray();
        Assert.Equal(labels.Length, labels.Distinct().Count());
    }

    [Fact]
    public void Method_colours_are_fixed_by_name_across_reports()
    {
        var alone = PlotPalette.ForMethods(["my-probe"]);
        var withOthers = PlotPalette.ForMethods(["zero-shot", "coop", "my-probe", "clip-adapter"]);
        Assert.Equal(alone["my-probe"], withOthers["my-probe"]);
        Assert.Equal(PlotPalette.ForMethod("zero-shot"), withOthers["zero-shot"]);
        Assert.Equal(withOthers, PlotPalette.ForMethods(["clip-adapter", "my-probe", "coop", "zero-shot"]));
        // The six built-in methods have six different colours; so do a dozen plugin names in one report.
        string[] builtIn = ["zero-shot", "linear-probe", "coop", "clip-adapter", "tip-adapter", "tip-adapter-f"];
        Assert.Equal(6, PlotPalette.ForMethods(builtIn).Values.Distinct().Count());
        var many = Enumerable.Range(0, 12).Select(i => $"plugin-{i}").Concat(builtIn).ToArray();
        Assert.Equal(many.Length, PlotPalette.ForMethods(many).Values.Distinct().Count());
    }
}
