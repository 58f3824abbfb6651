using Peft.Data.Datasets;

namespace Peft.Data.Splits;

/// <summary>The file layouts <c>peft data split</c> can write.</summary>
public enum SplitFileFormat
{
    /// <summary>A <see cref="SplitManifest"/> file.</summary>
    Manifest,

    /// <summary>CoOp's <c>split_zhou_*.json</c> layout (<see cref="SplitManifest.ExportCoOp"/>).</summary>
    CoOp,
}

/// <summary>What <c>peft data split</c> does, kept out of the command so it can be tested without a process.</summary>
public static class SplitJob
{
    /// <summary>Reads the dataset, samples the split and writes it in <paramref name="format"/>.</summary>
    public static (SplitManifest Manifest, WriteOutcome Outcome) Run(
        IDatasetReader reader, string root, FewShotRequest request, string outPath, SplitFileFormat format,
        bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var dataset = reader.Read(root);
        var manifest = SplitManifest.Create(dataset, request);
        var outcome = format switch
        {
            SplitFileFormat.Manifest => manifest.Write(outPath, overwrite),
            SplitFileFormat.CoOp => manifest.ExportCoOp(outPath, overwrite),
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
        return (manifest, outcome);
    }

    /// <summary>The report lines: hash, sizes per split, classes and short classes (at most <paramref name="maxShortLines"/>).</summary>
    public static IEnumerable<string> Summary(SplitManifest m, int maxShortLines = 20)
    {
        yield return $"sha256: {m.Sha256}";
        yield return $"dataset: {m.Dataset}, {m.ClassNames.Count} classes, {m.Shots} shots, seed {m.Seed?.ToString() ?? "unknown"}, " +
                     $"sampling {m.Sampling.ToName()}, val shots {(m.ValShots >= 1 ? m.ValShots.ToString() : "all (not sampled)")}";
        yield return $"train: {m.Train.Count}, val: {m.Val.Count}, test: {m.Test.Count}";
        if (m.ShortClasses.Count == 0)
        {
            yield return "short classes: none";
            yield break;
        }
        var bySplit = string.Join(", ", m.ShortClasses.GroupBy(s => s.Split).Select(g => $"{g.Count()} in {g.Key}"));
        yield return $"short classes (fewer items than requested; all taken): {bySplit}";
        foreach (var s in m.ShortClasses.Take(maxShortLines))
            yield return "  " + s;
        if (m.ShortClasses.Count > maxShortLines)
            yield return $"  ... and {m.ShortClasses.Count - maxShortLines} more (listed in the manifest's short_classes)";
    }
}
