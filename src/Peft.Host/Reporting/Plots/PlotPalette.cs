using SkiaSharp;

namespace Peft.Host.Reporting.Plots;

/// <summary>Method colours: the Tableau-10 palette (matplotlib's default cycle, as in the papers' figures), by method index.</summary>
public static class PlotPalette
{
    static readonly SKColor[] Colors =
    [
        new(0x1f, 0x77, 0xb4), new(0xff, 0x7f, 0x0e), new(0x2c, 0xa0, 0x2c), new(0xd6, 0x27, 0x28), new(0x94, 0x67, 0xbd),
        new(0x8c, 0x56, 0x4b), new(0xe3, 0x77, 0xc2), new(0x7f, 0x7f, 0x7f), new(0xbc, 0xbd, 0x22), new(0x17, 0xbe, 0xcf),
    ];

    /// <summary>The colour of the method at <paramref name="index"/> in the grid's method order (cycles after ten).</summary>
    public static SKColor ForMethod(int index) => Colors[index % Colors.Length];
}
