using System.Globalization;
using SkiaSharp;
using static Peft.Reporting.Plots.PlotFonts;

namespace Peft.Reporting.Plots;

/// <summary>
/// Accuracy versus shots as in the CLIP-Adapter / Tip-Adapter figures: x = labelled examples per class on a log2 axis
/// (ticks at the shots values run), y = accuracy (%), one coloured line with markers per method and a translucent
/// band of ± one std over seeds (an error bar where a point has no neighbour). A method whose mean is the same at
/// every shots value (zero-shot CLIP) is a dashed horizontal line. Missing points break the line. Output is a PNG;
/// the same input gives the same bytes.
/// </summary>
public static class AccuracyPlot
{
    public const int Width = 900, Height = 600;
    const float Left = 78, Top = 56, Right = 690, Bottom = 526;
    const float LegendX = 712;

    /// <summary>Renders one dataset, or the average over datasets when <paramref name="dataset"/> is null.</summary>
    public static byte[] Render(ExperimentSummary summary, AccuracyMetric metric, string? dataset)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var g = summary.Grid;
        var table = summary.Table(metric);
        var colours = PlotPalette.ForMethods(g.Methods);
        var series = g.Methods.Select(method => new PlotSeries(method, colours[method],
            g.Shots.Select(s => dataset is null ? table.Average(method, s) : table.PerDataset(method, dataset, s)).ToArray())).ToArray();
        string title = dataset ?? $"Average over {g.Datasets.Count} dataset{(g.Datasets.Count == 1 ? "" : "s")}";

        var present = series.SelectMany(s => s.Points).Where(p => !p.IsMissing).ToArray();
        var yAxis = present.Length == 0 ? new AxisTicks(0, 100, 20)
            : AxisTicks.Covering(present.Min(p => p.Mean - Spread(p)), present.Max(p => p.Mean + Spread(p)));
        var frame = new PlotFrame(g.Shots, yAxis, Left, Top, Right, Bottom);

        using var bitmap = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            DrawAxes(canvas, frame, g.Shots, yAxis, title, metric);
            foreach (var s in series) DrawBand(canvas, frame, g.Shots, s);
            foreach (var s in series) DrawLine(canvas, frame, g.Shots, s);
            foreach (var s in series) DrawMarkers(canvas, frame, g.Shots, s);
            DrawLegend(canvas, series);
            if (present.Length == 0) DrawCentred(canvas, "no results", (Left + Right) / 2, (Top + Bottom) / 2, PlotFonts.Font(16), SKColors.Gray);
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    static double Spread(SeedSummary p) => double.IsFinite(p.StdDev) ? p.StdDev : 0;

    static void DrawAxes(SKCanvas canvas, PlotFrame frame, IReadOnlyList<int> shots, AxisTicks yAxis, string title, AccuracyMetric metric)
    {
        using var grid = new SKPaint { Color = new SKColor(0xe3, 0xe6, 0xea), StrokeWidth = 1, IsAntialias = false, Style = SKPaintStyle.Stroke };
        using var axis = new SKPaint { Color = new SKColor(0x44, 0x44, 0x44), StrokeWidth = 1, IsAntialias = false, Style = SKPaintStyle.Stroke };
        using var tickFont = PlotFonts.Font(13);
        var ink = new SKColor(0x22, 0x22, 0x22);
        foreach (double v in yAxis.Values)
        {
            float y = MathF.Round(frame.Y(v)) + 0.5f;
            canvas.DrawLine(Left, y, Right, y, grid);
            canvas.DrawLine(Left - 5, y, Left, y, axis);
            string label = yAxis.Label(v);
            Text(canvas, label, Left - 9 - Measure(tickFont, label), y + 4.5f, tickFont, ink);
        }
        foreach (int s in shots)
        {
            float x = MathF.Round(frame.X(s)) + 0.5f;
            canvas.DrawLine(x, Top, x, Bottom, grid);
            canvas.DrawLine(x, Bottom, x, Bottom + 5, axis);
            DrawCentred(canvas, s.ToString(CultureInfo.InvariantCulture), x, Bottom + 21, tickFont, ink);
        }
        canvas.DrawRect(Left + 0.5f, Top + 0.5f, Right - Left - 1, Bottom - Top - 1, axis);

        using var labelFont = PlotFonts.Font(14);
        DrawCentred(canvas, "Number of labelled training examples per class", (Left + Right) / 2, Bottom + 46, labelFont, ink);
        canvas.Save();
        canvas.RotateDegrees(-90, 24, (Top + Bottom) / 2);
        DrawCentred(canvas, Capitalised(metric.Label()), 24, (Top + Bottom) / 2 + 5, labelFont, ink);
        canvas.Restore();
        using var titleFont = PlotFonts.Font(18, bold: true);
        DrawCentred(canvas, Ellipsize(title, titleFont, Right - Left), (Left + Right) / 2, Top - 20, titleFont, ink);
    }

    static void DrawBand(SKCanvas canvas, PlotFrame frame, IReadOnlyList<int> shots, PlotSeries s)
    {
        using var fill = new SKPaint { Color = s.Color.WithAlpha(0x30), IsAntialias = true, Style = SKPaintStyle.Fill };
        using var bar = new SKPaint { Color = s.Color, StrokeWidth = 1.5f, IsAntialias = true, Style = SKPaintStyle.Stroke };
        if (s.IsFlat)
        {
            var p = s.Points.First(p => !p.IsMissing);
            if (Spread(p) > 0) canvas.DrawRect(SKRect.Create(Left + 1, frame.Y(p.Mean + p.StdDev), Right - Left - 2, frame.Y(p.Mean - p.StdDev) - frame.Y(p.Mean + p.StdDev)), fill);
            return;
        }
        foreach (var run in s.Runs())
        {
            if (run.Count == 1)
            {
                var (i, p) = run[0];
                if (Spread(p) == 0) continue;
                float x = frame.X(shots[i]), y0 = frame.Y(p.Mean - p.StdDev), y1 = frame.Y(p.Mean + p.StdDev);
                canvas.DrawLine(x, y0, x, y1, bar);
                canvas.DrawLine(x - 5, y0, x + 5, y0, bar);
                canvas.DrawLine(x - 5, y1, x + 5, y1, bar);
                continue;
            }
            using var path = new SKPath();
            path.MoveTo(frame.X(shots[run[0].Index]), frame.Y(run[0].Point.Mean + Spread(run[0].Point)));
            foreach (var (i, p) in run.Skip(1)) path.LineTo(frame.X(shots[i]), frame.Y(p.Mean + Spread(p)));
            foreach (var (i, p) in Enumerable.Reverse(run)) path.LineTo(frame.X(shots[i]), frame.Y(p.Mean - Spread(p)));
            path.Close();
            canvas.DrawPath(path, fill);
        }
    }

    static void DrawLine(SKCanvas canvas, PlotFrame frame, IReadOnlyList<int> shots, PlotSeries s)
    {
        using var stroke = new SKPaint { Color = s.Color, StrokeWidth = 2.5f, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeJoin = SKStrokeJoin.Round };
        if (s.IsFlat)
        {
            // Snapped to the pixel grid so that the dash covers whole pixels in the method's exact colour.
            float y = MathF.Round(frame.Y(s.Points.First(p => !p.IsMissing).Mean));
            using var dashed = new SKPaint { Color = s.Color, StrokeWidth = 2, IsAntialias = true, Style = SKPaintStyle.Stroke, PathEffect = SKPathEffect.CreateDash([9, 6], 0) };
            canvas.DrawLine(Left + 1, y, Right - 1, y, dashed);
            return;
        }
        foreach (var run in s.Runs().Where(r => r.Count > 1))
        {
            using var path = new SKPath();
            path.MoveTo(frame.X(shots[run[0].Index]), frame.Y(run[0].Point.Mean));
            foreach (var (i, p) in run.Skip(1)) path.LineTo(frame.X(shots[i]), frame.Y(p.Mean));
            canvas.DrawPath(path, stroke);
        }
    }

    static void DrawMarkers(SKCanvas canvas, PlotFrame frame, IReadOnlyList<int> shots, PlotSeries s)
    {
        if (s.IsFlat) return;
        using var fill = new SKPaint { Color = s.Color, IsAntialias = true, Style = SKPaintStyle.Fill };
        using var rim = new SKPaint { Color = SKColors.White, StrokeWidth = 1, IsAntialias = true, Style = SKPaintStyle.Stroke };
        for (int i = 0; i < shots.Count; i++)
        {
            var p = s.Points[i];
            if (p.IsMissing) continue;
            float x = frame.X(shots[i]), y = frame.Y(p.Mean);
            canvas.DrawCircle(x, y, 5, fill);
            canvas.DrawCircle(x, y, 5.5f, rim);
        }
    }

    static void DrawLegend(SKCanvas canvas, IReadOnlyList<PlotSeries> series)
    {
        using var font = PlotFonts.Font(13);
        var ink = new SKColor(0x22, 0x22, 0x22);
        float y = Top + 14;
        foreach (var s in series)
        {
            using var stroke = new SKPaint { Color = s.Color, StrokeWidth = s.IsFlat ? 2 : 2.5f, IsAntialias = true, Style = SKPaintStyle.Stroke };
            if (s.IsFlat) stroke.PathEffect = SKPathEffect.CreateDash([7, 4], 0);
            canvas.DrawLine(LegendX, y, LegendX + 30, y, stroke);
            if (!s.IsFlat)
            {
                using var fill = new SKPaint { Color = s.Color, IsAntialias = true, Style = SKPaintStyle.Fill };
                canvas.DrawCircle(LegendX + 15, y, 5, fill);
            }
            Text(canvas, Ellipsize(s.Method, font, Width - LegendX - 48), LegendX + 40, y + 4.5f, font, ink);
            y += 26;
        }
    }

    static string Ellipsize(string text, SKFont font, float maxWidth)
    {
        if (Measure(font, text) <= maxWidth) return text;
        for (int n = text.Length - 1; n > 0; n--)
            if (Measure(font, text[..n] + "…") <= maxWidth) return text[..n] + "…";
        return "…";
    }


    static string Capitalised(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    static void DrawCentred(SKCanvas canvas, string text, float x, float y, SKFont font, SKColor color) =>
        Text(canvas, text, x - Measure(font, text) / 2, y, font, color);
}
