using System.Text;
using SkiaSharp;

namespace Peft.Reporting.Plots;

/// <summary>
/// Method colours, fixed by method name so that a method looks the same in every plot of every report: the built-in
/// methods have their own colour of the Tableau palette (matplotlib's default cycle, as in the papers' figures); any
/// other name gets the colour its name hashes to (FNV-1a) among the rest. Only if two such names of one report land
/// on the same colour does the later one in ordinal order take the next free colour.
/// </summary>
public static class PlotPalette
{
    // Tableau 10, then the light half of Tableau 20.
    static readonly SKColor[] Colors =
    [
        new(0x1f, 0x77, 0xb4), new(0xff, 0x7f, 0x0e), new(0x2c, 0xa0, 0x2c), new(0xd6, 0x27, 0x28), new(0x94, 0x67, 0xbd),
        new(0x8c, 0x56, 0x4b), new(0xe3, 0x77, 0xc2), new(0x7f, 0x7f, 0x7f), new(0xbc, 0xbd, 0x22), new(0x17, 0xbe, 0xcf),
        new(0xae, 0xc7, 0xe8), new(0xff, 0xbb, 0x78), new(0x98, 0xdf, 0x8a), new(0xff, 0x98, 0x96), new(0xc5, 0xb0, 0xd5),
        new(0xc4, 0x9c, 0x94), new(0xf7, 0xb6, 0xd2), new(0xdb, 0xdb, 0x8d), new(0x9e, 0xda, 0xe5),
    ];

    /// <summary>Tableau 10 in order, for series that are not methods (shots values, Base / New / H): neighbours stay distinguishable.</summary>
    public static IReadOnlyList<SKColor> Series { get; } = Colors[..10];

    /// <summary>Palette index of each built-in method (grey for the zero-shot baseline).</summary>
    static readonly Dictionary<string, int> BuiltIn = new(StringComparer.Ordinal)
    {
        ["linear-probe"] = 0, ["coop"] = 1, ["clip-adapter"] = 2, ["tip-adapter"] = 3, ["tip-adapter-f"] = 4, ["zero-shot"] = 7,
    };

    /// <summary>The colour of each method of one plot or report.</summary>
    public static IReadOnlyDictionary<string, SKColor> ForMethods(IEnumerable<string> methods)
    {
        var result = new Dictionary<string, SKColor>(StringComparer.Ordinal);
        var taken = new HashSet<int>();
        var names = methods.Distinct(StringComparer.Ordinal).ToArray();
        foreach (var name in names.Where(BuiltIn.ContainsKey))
        {
            result[name] = Colors[BuiltIn[name]];
            taken.Add(BuiltIn[name]);
        }
        var free = Enumerable.Range(0, Colors.Length).Where(i => !BuiltIn.ContainsValue(i)).ToArray();
        foreach (var name in names.Where(n => !BuiltIn.ContainsKey(n)).Order(StringComparer.Ordinal))
        {
            int start = (int)(Fnv1a(name) % (uint)free.Length);
            int pick = -1;
            for (int k = 0; k < free.Length && pick < 0; k++)
                if (!taken.Contains(free[(start + k) % free.Length])) pick = free[(start + k) % free.Length];
            // More methods than colours: reuse, still deterministic by name.
            if (pick < 0) pick = free[start];
            taken.Add(pick);
            result[name] = Colors[pick];
        }
        return result;
    }

    /// <summary>The colour a method name has when no other name competes for it.</summary>
    public static SKColor ForMethod(string name) => ForMethods([name])[name];

    static uint Fnv1a(string text)
    {
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(text)) hash = (hash ^ b) * 16777619;
        return hash;
    }
}
