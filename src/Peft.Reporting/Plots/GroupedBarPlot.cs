using System.Globalization;
using SkiaSharp;
using static Peft.Reporting.Plots.PlotFonts;

namespace Peft.Reporting.Plots;

/// <summary>
/// Grouped bars: one group per method (x), one bar per series within it (Base / New / H; source / target average),
/// value labels on the bars, "n/a" where a method has no value for a series (it cannot be evaluated there; never drawn
/// as 0). y = top-1 (%) from 0, so bar lengths compare. Deterministic PNG bytes.
/// </summary>
public static class GroupedBarPlot
{
    public const int Height = 560;
    const float Left = 78, Top = 56, Bottom = 470;

    public static byte[] Render(string title, IReadOnlyList<string> series, IReadOnlyList<(string Method, IReadOnlyList<double?> Values)> groups)
    {
        if (groups.Count == 0 || series.Count == 0) throw new ArgumentException("a bar plot needs at least one method and one series");
        float barWidth = series.Count <= 3 ? 22 : 14, groupGap = 26;
        float groupWidth = barWidth * series.Count + groupGap;
        float right = Left + Math.Max(420, groups.Count * groupWidth + 20);
        float legendX = right + 24;
        int width = (int)(legendX + 40 + series.Max(s => s.Length) * 8 + 20);
        double max = groups.SelectMany(g => g.Values).Where(v => v is double d && double.IsFinite(d)).Select(v => v!.Value).DefaultIfEmpty(1).Max();
        var y = new AxisTicks(0, Math.Min(100, Math.Max(10, Math.Ceiling(max / 10) * 10)), max > 50 ? 20 : 10);
        float Y(double v) => Bottom - (float)((v - y.Min) / (y.Max - y.Min)) * (Bottom - Top);

        using var bitmap = new SKBitmap(new SKImageInfo(width, Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            var ink = new SKColor(0x22, 0x22, 0x22);
            using var gridPaint = new SKPaint { Color = new SKColor(0xe3, 0xe6, 0xea), StrokeWidth = 1, Style = SKPaintStyle.Stroke };
            using var axis = new SKPaint { Color = new SKColor(0x44, 0x44, 0x44), StrokeWidth = 1, Style = SKPaintStyle.Stroke };
            using var tick = PlotFonts.Font(13);
            using var small = PlotFonts.Font(10);
            foreach (double v in y.Values)
            {
                float yy = MathF.Round(Y(v)) + 0.5f;
                canvas.DrawLine(Left, yy, right, yy, gridPaint);
                Text(canvas, y.Label(v), Left - 9 - Measure(tick, y.Label(v)), yy + 4.5f, tick, ink);
            }
            for (int g = 0; g < groups.Count; g++)
            {
                float x0 = Left + 10 + groupGap / 2 + g * groupWidth;
                for (int s = 0; s < series.Count; s++)
                {
                    float x = x0 + s * barWidth;
                    if (groups[g].Values[s] is double v && double.IsFinite(v))
                    {
                        using var fill = new SKPaint { Color = PlotPalette.Series[s % PlotPalette.Series.Count], IsAntialias = true, Style = SKPaintStyle.Fill };
                        canvas.DrawRect(x, Y(v), barWidth - 2, Bottom - Y(v), fill);
                        string label = v.ToString("F1", CultureInfo.InvariantCulture);
                        canvas.Save();
                        canvas.RotateDegrees(-90, x + barWidth / 2 + 3, Y(v) - 4);
                        Text(canvas, label, x + barWidth / 2 + 3, Y(v) - 4, small, ink);
                        canvas.Restore();
                    }
                    else
                    {
                        canvas.Save();
                        canvas.RotateDegrees(-90, x + barWidth / 2 + 3, Bottom - 4);
                        Text(canvas, "n/a", x + barWidth / 2 + 3, Bottom - 4, small, new SKColor(0x88, 0x88, 0x88));
                        canvas.Restore();
                    }
                }
                // Method names slanted under their group.
                canvas.Save();
                float cx = x0 + barWidth * series.Count / 2;
                canvas.RotateDegrees(25, cx - 6, Bottom + 16);
                Text(canvas, groups[g].Method, cx - 6, Bottom + 16, tick, ink);
                canvas.Restore();
            }
            canvas.DrawRect(Left + 0.5f, Top + 0.5f, right - Left - 1, Bottom - Top - 1, axis);
            using var labelFont = PlotFonts.Font(14);
            canvas.Save();
            canvas.RotateDegrees(-90, 24, (Top + Bottom) / 2);
            Text(canvas, "Top-1 accuracy (%)", 24 - Measure(labelFont, "Top-1 accuracy (%)") / 2, (Top + Bottom) / 2 + 5, labelFont, ink);
            canvas.Restore();
            using var titleFont = PlotFonts.Font(16, bold: true);
            Text(canvas, title, Math.Max(8, (Left + right) / 2 - Measure(titleFont, title) / 2), Top - 22, titleFont, ink);
            float legendY = Top + 14;
            for (int s = 0; s < series.Count; s++)
            {
                using var fill = new SKPaint { Color = PlotPalette.Series[s % PlotPalette.Series.Count], Style = SKPaintStyle.Fill };
                canvas.DrawRect(legendX, legendY - 9, 22, 12, fill);
                Text(canvas, series[s], legendX + 30, legendY + 2, tick, ink);
                legendY += 22;
            }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }
}
