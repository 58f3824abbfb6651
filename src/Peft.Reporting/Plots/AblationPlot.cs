using System.Globalization;
using Peft.Results;
using SkiaSharp;
using static Peft.Reporting.Plots.PlotFonts;

namespace Peft.Reporting.Plots;

/// <summary>
/// Accuracy against the swept value for one method's grid: x = the grid points in grid order (labelled by their values),
/// y = top-1 (%), averaged over datasets and seeds; per shots value a solid line for test and a dashed one for
/// validation, in the same colour. Deterministic PNG bytes.
/// </summary>
public static class AblationPlot
{
    public const int Width = 900, Height = 600;
    const float Left = 78, Top = 56, Right = 690, Bottom = 500, LegendX = 712;

    public static byte[] Render(IReadOnlyList<AblationPoint> points, string title)
    {
        var grid = AblationReport.Points(points);
        var shots = points.Select(p => p.Shots).Distinct().Order().ToList();
        // Shots in order along a fixed qualitative palette (Tableau 10): neighbours stay distinguishable.
        var colours = shots.Select((s, i) => (Name(s), PlotPalette.Series[i % PlotPalette.Series.Count])).ToDictionary(x => x.Item1, x => x.Item2);
        double Mean(int index, int s, bool test) =>
            AblationReport.MeanStd(points.Where(p => p.Index == index && p.Shots == s).Select(p => test ? p.TestTop1 : p.ValTop1).ToList()).Mean;
        var values = shots.SelectMany(s => grid.SelectMany(g => new[] { Mean(g.Index, s, true), Mean(g.Index, s, false) })).Where(double.IsFinite).ToList();
        var y = values.Count == 0 ? new AxisTicks(0, 100, 20) : AxisTicks.Covering(values.Min(), values.Max());
        float X(int i) => grid.Count == 1 ? (Left + Right) / 2 : Left + 30 + i * (Right - Left - 60) / (grid.Count - 1);
        float Y(double v) => Bottom - (float)((v - y.Min) / (y.Max - y.Min)) * (Bottom - Top);

        using var bitmap = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            var ink = new SKColor(0x22, 0x22, 0x22);
            using var gridPaint = new SKPaint { Color = new SKColor(0xe3, 0xe6, 0xea), StrokeWidth = 1, Style = SKPaintStyle.Stroke };
            using var axis = new SKPaint { Color = new SKColor(0x44, 0x44, 0x44), StrokeWidth = 1, Style = SKPaintStyle.Stroke };
            using var tick = PlotFonts.Font(13);
            foreach (double v in y.Values)
            {
                float yy = MathF.Round(Y(v)) + 0.5f;
                canvas.DrawLine(Left, yy, Right, yy, gridPaint);
                Text(canvas, y.Label(v), Left - 9 - Measure(tick, y.Label(v)), yy + 4.5f, tick, ink);
            }
            for (int i = 0; i < grid.Count; i++)
            {
                float x = MathF.Round(X(i)) + 0.5f;
                canvas.DrawLine(x, Top, x, Bottom, gridPaint);
                // Long labels (several axes) are drawn slanted so neighbours do not overlap.
                canvas.Save();
                canvas.RotateDegrees(grid.Count > 4 ? 30 : 0, x, Bottom + 18);
                string label = grid[i].Label;
                Text(canvas, label, grid.Count > 4 ? x - 4 : x - Measure(tick, label) / 2, Bottom + 18, tick, ink);
                canvas.Restore();
            }
            canvas.DrawRect(Left + 0.5f, Top + 0.5f, Right - Left - 1, Bottom - Top - 1, axis);
            using var labelFont = PlotFonts.Font(14);
            string swept = "Grid point (" + string.Join(" × ", points.SelectMany(p => p.Values.Keys).Distinct().Order(StringComparer.Ordinal)) + ")";
            Text(canvas, swept, (Left + Right) / 2 - Measure(labelFont, swept) / 2, Height - 30, labelFont, ink);
            canvas.Save();
            canvas.RotateDegrees(-90, 24, (Top + Bottom) / 2);
            Text(canvas, "Top-1 accuracy (%)", 24 - Measure(labelFont, "Top-1 accuracy (%)") / 2, (Top + Bottom) / 2 + 5, labelFont, ink);
            canvas.Restore();
            using var titleFont = PlotFonts.Font(17, bold: true);
            Text(canvas, title, (Left + Right) / 2 - Measure(titleFont, title) / 2, Top - 20, titleFont, ink);

            float legendY = Top + 14;
            foreach (var s in shots)
            {
                var colour = colours[Name(s)];
                foreach (bool test in new[] { true, false })
                {
                    using var stroke = new SKPaint { Color = colour, StrokeWidth = test ? 2.5f : 1.8f, IsAntialias = true, Style = SKPaintStyle.Stroke };
                    if (!test) stroke.PathEffect = SKPathEffect.CreateDash([7, 5], 0);
                    using var fill = new SKPaint { Color = colour, IsAntialias = true, Style = SKPaintStyle.Fill };
                    using var path = new SKPath();
                    bool started = false;
                    for (int i = 0; i < grid.Count; i++)
                    {
                        double m = Mean(grid[i].Index, s, test);
                        if (!double.IsFinite(m)) { started = false; continue; }
                        if (started) path.LineTo(X(i), Y(m)); else path.MoveTo(X(i), Y(m));
                        started = true;
                        if (test) canvas.DrawCircle(X(i), Y(m), 4.5f, fill);
                    }
                    canvas.DrawPath(path, stroke);
                    canvas.DrawLine(LegendX, legendY, LegendX + 30, legendY, stroke);
                    Text(canvas, $"{Name(s)}, {(test ? "test" : "validation")}", LegendX + 38, legendY + 4.5f, tick, ink);
                    legendY += 22;
                }
            }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }


    static string Name(int shots) => shots == 1 ? "1 shot" : $"{shots.ToString(CultureInfo.InvariantCulture)} shots";
}
