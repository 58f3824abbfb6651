using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Peft.Imaging;

namespace Peft.Data.Datasets;

/// <summary>One problem found by <see cref="DatasetChecker"/>.</summary>
/// <param name="Kind"><c>missing</c> (file not found), <c>unreadable</c> (does not decode), <c>overlap</c> (an image in train and in val/test).</param>
/// <param name="Path">The file at fault.</param>
/// <param name="Message">What is wrong.</param>
public sealed record DatasetProblem(string Kind, string Path, string Message);

/// <summary>Per-class count extremes of one split.</summary>
public sealed record ClassCountRange(int Min, string MinClass, int Max, string MaxClass);

/// <summary>What <see cref="DatasetChecker.Check"/> found; <see cref="ToText"/> is what <c>peft data check</c> prints.</summary>
public sealed record DatasetCheckReport
{
    public required string Name { get; init; }
    public required string Root { get; init; }
    public required string ImageRoot { get; init; }
    public required IReadOnlyList<string> ClassNames { get; init; }
    public required IReadOnlyList<string> Templates { get; init; }
    public required int TrainCount { get; init; }
    public required int ValCount { get; init; }
    public required int TestCount { get; init; }
    public required bool ValIsTest { get; init; }
    /// <summary>Train images per class (null for test-only datasets).</summary>
    public required ClassCountRange? TrainPerClass { get; init; }
    /// <summary>Distinct image files checked (an image listed in several splits counts once).</summary>
    public required int FilesChecked { get; init; }
    public required bool Decoded { get; init; }
    public required IReadOnlyList<DatasetProblem> Problems { get; init; }

    public bool IsOk => Problems.Count == 0;

    public string ToText(int maxProblems = 20)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"dataset:     {Name}");
        sb.AppendLine(inv, $"folder:      {Root}");
        sb.AppendLine(inv, $"image root:  {ImageRoot}");
        const int show = 5;
        sb.AppendLine(inv, $"classes:     {ClassNames.Count} ({string.Join(", ", ClassNames.Take(show))}{(ClassNames.Count > show ? ", ..." : "")})");
        sb.AppendLine(inv, $"splits:      train {TrainCount}, val {ValCount}{(ValIsTest ? " (= test, as in CoOp)" : "")}, test {TestCount}");
        if (TrainPerClass is { } r)
            sb.AppendLine(inv, $"train/class: min {r.Min} ({r.MinClass}), max {r.Max} ({r.MaxClass})");
        else
            sb.AppendLine("train/class: - (test-only dataset)");
        sb.AppendLine(inv, $"{(Templates.Count > 1 ? "templates:" : "template:"),-13}{string.Join(" | ", Templates)}");
        sb.AppendLine(inv, $"files:       {FilesChecked} checked ({(Decoded ? "exist and decode" : "exist; not decoded")})");
        if (IsOk)
        {
            sb.AppendLine("result:      OK");
        }
        else
        {
            var byKind = Problems.GroupBy(p => p.Kind).Select(g => $"{g.Count()} {g.Key}");
            sb.AppendLine(inv, $"result:      {Problems.Count} problem{(Problems.Count > 1 ? "s" : "")} ({string.Join(", ", byKind)})");
            foreach (var p in Problems.Take(maxProblems))
                sb.AppendLine(inv, $"  {p.Kind}: {p.Path}: {p.Message}");
            if (Problems.Count > maxProblems)
                sb.AppendLine(inv, $"  ... and {Problems.Count - maxProblems} more");
        }
        return sb.ToString();
    }
}

/// <summary>
/// Verifies a dataset read by a reader: every listed image exists and (unless <c>decode</c> is false) decodes with
/// <see cref="ImageDecoder.Decode(string)"/>, checked in parallel; and no image is in train and in val or test
/// (for ImageNet, val is the test split by design and not flagged). Problems are listed in split order.
/// </summary>
public static class DatasetChecker
{
    /// <param name="dataset">The dataset as read.</param>
    /// <param name="decode">Decode every image (slow: reads and decodes each file) instead of only checking it exists.</param>
    /// <param name="progress">Called with the number of files done so far (from worker threads).</param>
    /// <param name="maxParallelism">Worker count; default the processor count.</param>
    public static DatasetCheckReport Check(ImageDataset dataset, bool decode = true, Action<long>? progress = null,
        int? maxParallelism = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        bool valIsTest = ReferenceEquals(dataset.Val, dataset.Test) && dataset.Val.Count > 0;

        var problems = new List<DatasetProblem>();
        var trainPaths = new HashSet<string>(dataset.Train.Select(i => i.ImagePath), StringComparer.Ordinal);
        var others = valIsTest ? new[] { ("test", dataset.Test) } : new[] { ("val", dataset.Val), ("test", dataset.Test) };
        foreach (var (split, items) in others)
            foreach (var it in items)
                if (trainPaths.Contains(it.ImagePath))
                    problems.Add(new DatasetProblem("overlap", dataset.PathOf(it), $"listed in train and in {split}"));

        var files = DistinctFiles(dataset);

        var fileProblems = new ConcurrentDictionary<int, DatasetProblem>();
        long done = 0;
        Parallel.For(0, files.Count, new ParallelOptions
        {
            MaxDegreeOfParallelism = maxParallelism ?? Environment.ProcessorCount,
            CancellationToken = cancellationToken,
        }, i =>
        {
            string path = Path.Combine(dataset.ImageRoot, files[i]);
            if (!File.Exists(path))
                fileProblems[i] = new DatasetProblem("missing", path, "file not found");
            else if (decode)
            {
                try
                {
                    ImageDecoder.Decode(path);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    string reason = e is ImageDecodeException ide ? StripPrefix(ide.Message, path) : e.Message;
                    fileProblems[i] = new DatasetProblem("unreadable", path, reason);
                }
            }
            long d = Interlocked.Increment(ref done);
            progress?.Invoke(d);
        });
        problems.InsertRange(0, fileProblems.OrderBy(kv => kv.Key).Select(kv => kv.Value));

        ClassCountRange? range = null;
        if (dataset.Train.Count > 0)
        {
            var counts = new int[dataset.ClassNames.Count];
            foreach (var it in dataset.Train) counts[it.Label]++;
            int lo = 0, hi = 0;
            for (int c = 1; c < counts.Length; c++)
            {
                if (counts[c] < counts[lo]) lo = c;
                if (counts[c] > counts[hi]) hi = c;
            }
            range = new ClassCountRange(counts[lo], dataset.ClassNames[lo], counts[hi], dataset.ClassNames[hi]);
        }

        return new DatasetCheckReport
        {
            Name = dataset.Name,
            Root = dataset.Root,
            ImageRoot = dataset.ImageRoot,
            ClassNames = dataset.ClassNames,
            Templates = dataset.Templates,
            TrainCount = dataset.Train.Count,
            ValCount = dataset.Val.Count,
            TestCount = dataset.Test.Count,
            ValIsTest = valIsTest,
            TrainPerClass = range,
            FilesChecked = files.Count,
            Decoded = decode,
            Problems = problems,
        };
    }

    /// <summary>The distinct image paths (relative to the image root) of all splits, in split order: what <see cref="Check"/> visits.</summary>
    public static IReadOnlyList<string> DistinctFiles(ImageDataset dataset)
    {
        var files = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var it in dataset.Train.Concat(dataset.Val).Concat(dataset.Test))
            if (seen.Add(it.ImagePath)) files.Add(it.ImagePath);
        return files;
    }

    // ImageDecodeException: "Cannot decode image '<path>': <reason>" — the path is already in the problem line.
    static string StripPrefix(string message, string path)
    {
        string prefix = $"Cannot decode image '{path}': ";
        return message.StartsWith(prefix, StringComparison.Ordinal) ? message[prefix.Length..] : message;
    }
}
