namespace Peft.Core;

/// <summary>
/// Option values a method's official code uses for one dataset (e.g. Tip-Adapter's configs/eurosat.yaml), applied by the
/// host on top of the option defaults for cells of that dataset; an option written in the experiment file overrides
/// the preset. <paramref name="Values"/> use the names and text forms of the experiment file (<c>searchScale</c> →
/// <c>[12, 10]</c> is written as keys <c>searchScale:0</c>, <c>searchScale:1</c>).
/// </summary>
/// <param name="Dataset">The dataset type (<see cref="CoopDatasetNames"/>, e.g. <c>eurosat</c>).</param>
/// <param name="Values">Configuration entries of the preset (camelCase option name → value; list items as <c>name:i</c>).</param>
/// <param name="Source">Where the values come from (repository and file).</param>
public sealed record OptionPreset(string Dataset, IReadOnlyDictionary<string, string> Values, string Source)
{
    /// <summary>A preset from option → value pairs, lists given as arrays (expanded to <c>name:i</c> entries).</summary>
    public static OptionPreset For(string dataset, string source, params (string Option, object Value)[] values)
    {
        var entries = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (option, value) in values)
        {
            if (value is System.Collections.IEnumerable list and not string)
            {
                int i = 0;
                foreach (var item in list) entries[$"{option}:{i++}"] = Text(item);
            }
            else entries[option] = Text(value);
        }
        return new OptionPreset(dataset, entries, source);
    }

    /// <summary>The option names the preset sets (without list indices), in order of first appearance.</summary>
    public IReadOnlyList<string> Options => Values.Keys.Select(k => k.Split(':')[0]).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    static string Text(object? v) => v switch
    {
        null => "",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };
}
