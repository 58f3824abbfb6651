using SkiaSharp;

namespace Peft.Reporting.Plots;

/// <summary>
/// The typeface plots use: DejaVu Sans (fonts-dejavu-core, on stock Debian/Ubuntu) when Skia finds it, else Skia's
/// default typeface. Fixed once per process so that the same input renders to the same bytes.
/// </summary>
static class PlotFonts
{
    const string Preferred = "DejaVu Sans";

    public static SKTypeface Regular { get; } = Find(SKFontStyle.Normal);
    public static SKTypeface Bold { get; } = Find(SKFontStyle.Bold);

    static SKTypeface Find(SKFontStyle style)
    {
        var typeface = SKTypeface.FromFamilyName(Preferred, style);
        if (typeface is not null && typeface.FamilyName == Preferred && typeface.GlyphCount > 0) return typeface;
        return SKTypeface.Default;
    }

    /// <summary>An antialiased font without hinting or subpixel positioning (both can vary between Skia builds).</summary>
    public static SKFont Font(float size, bool bold = false) => new(bold ? Bold : Regular, size)
    {
        Edging = SKFontEdging.Antialias,
        Hinting = SKFontHinting.None,
        Subpixel = false,
    };

    /// <summary>Advance width of <paramref name="text"/> in <paramref name="font"/> (glyph by glyph, as it is drawn).</summary>
    public static float Measure(SKFont font, string text)
    {
        var glyphs = new ushort[font.CountGlyphs(text)];
        font.GetGlyphs(text, glyphs);
        return font.MeasureText(glyphs);
    }

    /// <summary>Draws <paramref name="text"/> antialiased with its baseline at (<paramref name="x"/>, <paramref name="y"/>).</summary>
    public static void Text(SKCanvas canvas, string text, float x, float y, SKFont font, SKColor color)
    {
        using var paint = new SKPaint { Color = color, IsAntialias = true };
        canvas.DrawText(text, x, y, font, paint);
    }
}
