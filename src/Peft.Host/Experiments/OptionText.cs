using System.Globalization;

namespace Peft.Host.Experiments;

/// <summary>How option values are written in params, listings and grid files: invariant numbers, lists as <c>[a, b]</c>, null as <c>none</c>.</summary>
public static class OptionText
{
    public static string Format(object? value) => value switch
    {
        null => "none",
        string s => s,
        bool b => b ? "true" : "false",
        System.Collections.IEnumerable e => "[" + string.Join(", ", e.Cast<object?>().Select(Format)) + "]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
