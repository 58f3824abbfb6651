using Peft.Data.Splits;
using Peft.Results;

namespace Peft.Host.Experiments;

/// <summary>
/// Says when a split has classes with fewer images than the shots asked for (Dassl then takes all of them): a
/// "16-shot" cell is then not 16-shot for those classes, so the runner warns once per dataset and shots and tags
/// each such cell's run with <see cref="TrackingNames.ShortClassesTag"/>.
/// </summary>
public static class ShortClassNotice
{
    const int Listed = 5;

    /// <summary>The tag value: per split, each short class as <c>'name' available/requested</c>; null when none is short.</summary>
    public static string? Tag(SplitManifest split) => split.ShortClasses.Count == 0 ? null
        : string.Join("; ", split.ShortClasses.GroupBy(s => s.Split)
            .Select(g => $"{g.Key}: " + string.Join(", ", g.Select(s => $"'{s.ClassName}' {s.Available}/{s.Requested}"))));

    /// <summary>One warning line naming the classes and their counts (the first few), or null when none is short.</summary>
    public static string? Warning(string dataset, int shots, SplitManifest split)
    {
        if (split.ShortClasses.Count == 0) return null;
        var parts = split.ShortClasses.GroupBy(s => s.Split).Select(g =>
            $"{g.Count()} {g.Key} class(es) have fewer: " +
            string.Join(", ", g.Take(Listed).Select(s => $"'{s.ClassName}' {s.Available}")) + (g.Count() > Listed ? $", … ({g.Count() - Listed} more)" : ""));
        return $"warning: {dataset}: {shots} shots asked, but {string.Join("; ", parts)}; all their images are used " +
               $"(cells tagged {TrackingNames.ShortClassesTag})";
    }
}
