using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Peft.Data.Datasets;

namespace Peft.Data.Splits;

/// <summary>What <see cref="SplitManifest.Write"/> and <see cref="SplitManifest.ExportCoOp"/> did.</summary>
public enum WriteOutcome
{
    /// <summary>The file did not exist and was written.</summary>
    Created,

    /// <summary>The file already held the same split (same sha256; for CoOp exports, the same bytes) and was left alone.</summary>
    Unchanged,

    /// <summary>The file held a different split and was replaced because overwriting was asked for.</summary>
    Replaced,
}

/// <summary>
/// A few-shot split, fixed on disk: which images are the K-shot train and val items and which are the test items, how
/// they were drawn, and a SHA-256 that identifies the split independently of machine, file layout and time.
/// </summary>
/// <remarks>
/// <para><b>File</b> (<see cref="ToJson"/>): a UTF-8 JSON object with the fields <c>format</c> ("peft.split-manifest"),
/// <c>format_version</c> (1), <c>sha256</c>, <c>dataset</c>, <c>root</c> (informational, may be null),
/// <c>created_utc</c> (informational, may be null), <c>sampling</c> ("dassl" or "imported"), <c>shots</c>,
/// <c>seed</c> (null only for imported splits whose seed is unknown), <c>val_shots</c>, <c>class_names</c> (indexed by
/// label), <c>short_classes</c> (objects with <c>split</c>, <c>label</c>, <c>class</c>, <c>available</c>,
/// <c>requested</c>), and <c>train</c>, <c>val</c>, <c>test</c> as lists of <c>[relative_path, label, classname]</c>.
/// Readers accept the fields in any order and with any whitespace.</para>
/// <para><b>Canonical form and <c>sha256</c></b> (<see cref="CanonicalBytes"/>): the lower-case hex SHA-256 of the UTF-8
/// bytes of a JSON object with exactly these members in this order: <c>format</c>, <c>format_version</c>,
/// <c>dataset</c>, <c>sampling</c>, <c>shots</c>, <c>seed</c>, <c>val_shots</c>, <c>class_names</c>,
/// <c>short_classes</c> (each object's members in the order split, label, class, available, requested), <c>train</c>,
/// <c>val</c>, <c>test</c>; with no whitespace at all (separators "," and ":"); integers in plain decimal; null as
/// <c>null</c>; strings with only <c>"</c>, <c>\</c> and U+0000–U+001F escaped (<c>\" \\ \b \f \n \r \t</c>, other
/// controls as <c>\u00xx</c> lower-case), everything else written as itself. This is exactly Python's
/// <c>json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")</c> for that object (checked against
/// Python in the tests). <c>sha256</c> itself, <c>root</c> and <c>created_utc</c> are excluded, so the same split made on
/// two machines, at two times, from two copies of a dataset has the same hash; list order is part of the split and of
/// the hash.</para>
/// </remarks>
public sealed class SplitManifest
{
    public const string FormatName = "peft.split-manifest";
    public const int FormatVersion = 1;

    public string Dataset { get; }

    /// <summary>The dataset folder the split was made from (informational: not part of the hash).</summary>
    public string? Root { get; }

    /// <summary>When the split was first made (informational: not part of the hash).</summary>
    public DateTimeOffset? CreatedUtc { get; }

    public SamplingMode Sampling { get; }
    public int Shots { get; }

    /// <summary>The Python seed; null only for an imported few-shot split whose seed was not given.</summary>
    public int? Seed { get; }

    /// <summary>Validation shots per class; below 1 means the validation split is kept whole.</summary>
    public int ValShots { get; }

    public IReadOnlyList<string> ClassNames { get; }
    public IReadOnlyList<DatasetItem> Train { get; }
    public IReadOnlyList<DatasetItem> Val { get; }
    public IReadOnlyList<DatasetItem> Test { get; }
    public IReadOnlyList<ShortClass> ShortClasses { get; }

    /// <summary>Lower-case hex SHA-256 of <see cref="CanonicalBytes"/>.</summary>
    public string Sha256 { get; }

    /// <summary>Builds a manifest and checks it (<see cref="DatasetFormatException"/> naming <paramref name="source"/> and the
    /// entry at fault).</summary>
    public SplitManifest(
        string dataset, string? root, DateTimeOffset? createdUtc, SamplingMode sampling, int shots, int? seed, int valShots,
        IReadOnlyList<string> classNames, IReadOnlyList<DatasetItem> train, IReadOnlyList<DatasetItem> val,
        IReadOnlyList<DatasetItem> test, IReadOnlyList<ShortClass> shortClasses, string? source = null)
    {
        Dataset = dataset;
        Root = root;
        CreatedUtc = createdUtc;
        Sampling = sampling;
        Shots = shots;
        Seed = seed;
        ValShots = valShots;
        ClassNames = classNames.ToArray();
        Train = train.ToArray();
        Val = val.ToArray();
        Test = test.ToArray();
        ShortClasses = shortClasses.ToArray();
        Validate(source ?? $"split manifest of '{dataset}'");
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(CanonicalBytes()));
    }

    /// <summary>A copy with other informational fields (the hash does not change).</summary>
    public SplitManifest WithInfo(string? root, DateTimeOffset? createdUtc) =>
        new(Dataset, root, createdUtc, Sampling, Shots, Seed, ValShots, ClassNames, Train, Val, Test, ShortClasses);

    /// <summary>Samples <paramref name="dataset"/> as <paramref name="request"/> says (see <see cref="FewShotSampler"/>); test is
    /// the full test split.</summary>
    public static SplitManifest Create(ImageDataset dataset, FewShotRequest request, DateTimeOffset? createdUtc = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        request.Validate();
        if (dataset.Train.Count == 0)
            throw new DatasetFormatException(dataset.Root,
                $"dataset '{dataset.Name}' has no training items (a test-only set?): there is nothing to sample a {request.Shots}-shot split from");
        var drawn = FewShotSampler.Sample(dataset, request);
        var shorts = drawn.ShortClasses.ToList();
        shorts.AddRange(AbsentClasses("train", dataset.Train, request.Shots, dataset.ClassNames));
        shorts.AddRange(AbsentClasses("val", dataset.Val, request.EffectiveValShots, dataset.ClassNames));
        return new SplitManifest(dataset.Name, dataset.Root, createdUtc ?? DateTimeOffset.UtcNow, request.Mode, request.Shots,
            request.Seed, request.EffectiveValShots, dataset.ClassNames, drawn.Train, drawn.Val, dataset.Test,
            SortShortClasses(shorts));
    }

    /// <summary>Classes of <paramref name="classNames"/> with no item at all in a sampled split (requested ≥ 1), in label order.</summary>
    internal static IEnumerable<ShortClass> AbsentClasses(
        string split, IReadOnlyList<DatasetItem> items, int requested, IReadOnlyList<string> classNames)
    {
        if (requested < 1)
            yield break;
        var present = items.Select(i => i.Label).ToHashSet();
        for (int label = 0; label < classNames.Count; label++)
            if (!present.Contains(label))
                yield return new ShortClass(split, label, classNames[label], 0, requested);
    }

    /// <summary>Train entries before val entries; within a split, present classes (in sampling order) before absent ones.</summary>
    static List<ShortClass> SortShortClasses(List<ShortClass> shorts) =>
        shorts.Where(s => s.Split == "train").Concat(shorts.Where(s => s.Split == "val")).ToList();

    // ------------------------------------------------------------------------------------------------------------
    // Canonical form and hash.

    /// <summary>The bytes <see cref="Sha256"/> is computed from (see the class remarks for the definition).</summary>
    public byte[] CanonicalBytes()
    {
        var sb = new StringBuilder();
        sb.Append("{\"format\":");
        PyJson.WriteString(sb, FormatName, false);
        sb.Append(",\"format_version\":").Append(FormatVersion.ToString(CultureInfo.InvariantCulture));
        sb.Append(",\"dataset\":");
        PyJson.WriteString(sb, Dataset, false);
        sb.Append(",\"sampling\":");
        PyJson.WriteString(sb, Sampling.ToName(), false);
        sb.Append(",\"shots\":").Append(Int(Shots));
        sb.Append(",\"seed\":").Append(Seed is int s ? Int(s) : "null");
        sb.Append(",\"val_shots\":").Append(Int(ValShots));
        sb.Append(",\"class_names\":[");
        for (int i = 0; i < ClassNames.Count; i++)
        {
            if (i > 0)
                sb.Append(',');
            PyJson.WriteString(sb, ClassNames[i], false);
        }
        sb.Append("],\"short_classes\":[");
        for (int i = 0; i < ShortClasses.Count; i++)
        {
            if (i > 0)
                sb.Append(',');
            AppendShortClass(sb, ShortClasses[i], ":", ",", false);
        }
        sb.Append(']');
        foreach (var (name, items) in Splits)
        {
            sb.Append(",\"").Append(name).Append("\":[");
            for (int i = 0; i < items.Count; i++)
            {
                if (i > 0)
                    sb.Append(',');
                AppendTriple(sb, items[i], ",", false);
            }
            sb.Append(']');
        }
        sb.Append('}');
        return PyJson.StrictUtf8.GetBytes(sb.ToString());
    }

    IEnumerable<(string Name, IReadOnlyList<DatasetItem> Items)> Splits =>
        [("train", Train), ("val", Val), ("test", Test)];

    static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    static void AppendTriple(StringBuilder sb, DatasetItem item, string separator, bool ensureAscii)
    {
        sb.Append('[');
        PyJson.WriteString(sb, item.ImagePath, ensureAscii);
        sb.Append(separator).Append(Int(item.Label)).Append(separator);
        PyJson.WriteString(sb, item.ClassName, ensureAscii);
        sb.Append(']');
    }

    static void AppendShortClass(StringBuilder sb, ShortClass s, string colon, string comma, bool ensureAscii)
    {
        sb.Append("{\"split\"").Append(colon);
        PyJson.WriteString(sb, s.Split, ensureAscii);
        sb.Append(comma).Append("\"label\"").Append(colon).Append(Int(s.Label));
        sb.Append(comma).Append("\"class\"").Append(colon);
        PyJson.WriteString(sb, s.ClassName, ensureAscii);
        sb.Append(comma).Append("\"available\"").Append(colon).Append(Int(s.Available));
        sb.Append(comma).Append("\"requested\"").Append(colon).Append(Int(s.Requested));
        sb.Append('}');
    }

    // ------------------------------------------------------------------------------------------------------------
    // File form.

    /// <summary>The manifest file's text: fixed field order, one list entry per line, non-ASCII written as itself.</summary>
    public string ToJson()
    {
        var sb = new StringBuilder();
        sb.Append("{\n");
        Field(sb, "format").Append(PyJson.Quote(FormatName, false)).Append(",\n");
        Field(sb, "format_version").Append(Int(FormatVersion)).Append(",\n");
        Field(sb, "sha256").Append(PyJson.Quote(Sha256, false)).Append(",\n");
        Field(sb, "dataset").Append(PyJson.Quote(Dataset, false)).Append(",\n");
        Field(sb, "root").Append(Root is null ? "null" : PyJson.Quote(Root, false)).Append(",\n");
        Field(sb, "created_utc")
            .Append(CreatedUtc is { } t
                ? PyJson.Quote(t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture), false)
                : "null")
            .Append(",\n");
        Field(sb, "sampling").Append(PyJson.Quote(Sampling.ToName(), false)).Append(",\n");
        Field(sb, "shots").Append(Int(Shots)).Append(",\n");
        Field(sb, "seed").Append(Seed is int s ? Int(s) : "null").Append(",\n");
        Field(sb, "val_shots").Append(Int(ValShots)).Append(",\n");
        Field(sb, "class_names");
        List(sb, ClassNames, (b, n) => PyJson.WriteString(b, n, false)).Append(",\n");
        Field(sb, "short_classes");
        List(sb, ShortClasses, (b, x) => AppendShortClass(b, x, ": ", ", ", false)).Append(",\n");
        Field(sb, "train");
        List(sb, Train, (b, x) => AppendTriple(b, x, ", ", false)).Append(",\n");
        Field(sb, "val");
        List(sb, Val, (b, x) => AppendTriple(b, x, ", ", false)).Append(",\n");
        Field(sb, "test");
        List(sb, Test, (b, x) => AppendTriple(b, x, ", ", false)).Append("\n}\n");
        return sb.ToString();

        static StringBuilder Field(StringBuilder b, string name) => b.Append("  \"").Append(name).Append("\": ");

        static StringBuilder List<T>(StringBuilder b, IReadOnlyList<T> items, Action<StringBuilder, T> write)
        {
            if (items.Count == 0)
                return b.Append("[]");
            b.Append("[\n");
            for (int i = 0; i < items.Count; i++)
            {
                b.Append("    ");
                write(b, items[i]);
                b.Append(i + 1 < items.Count ? ",\n" : "\n");
            }
            return b.Append("  ]");
        }
    }

    /// <summary>
    /// Writes the manifest atomically (a temporary file in the same folder, then a rename). An existing file with the same
    /// split (same sha256) is left as it is; an existing file with a different or unreadable content is an error unless
    /// <paramref name="overwrite"/>. When two processes write the same manifest at once, one rename wins and the other finds
    /// an identical split.
    /// </summary>
    public WriteOutcome Write(string path, bool overwrite = false)
    {
        var bytes = PyJson.StrictUtf8.GetBytes(ToJson());
        return ManifestFile.Write(path, bytes, overwrite, SameSplitAs, "split manifest");
    }

    /// <summary>Null when <paramref name="path"/> holds this split, else why not.</summary>
    string? SameSplitAs(string path)
    {
        SplitManifest existing;
        try
        {
            existing = Read(path);
        }
        catch (Exception e) when (e is DatasetFormatException or IOException or UnauthorizedAccessException)
        {
            return $"it is not a readable split manifest ({e.Message})";
        }
        return existing.Sha256 == Sha256
            ? null
            : $"it holds a different split (sha256 {existing.Sha256}, new {Sha256})";
    }

    /// <summary>Reads and checks a manifest; errors are <see cref="DatasetFormatException"/>s naming the file and the entry.</summary>
    public static SplitManifest Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path, PyJson.StrictUtf8);
        }
        catch (DecoderFallbackException e)
        {
            throw new DatasetFormatException(path, "not valid UTF-8", e);
        }
        return Parse(text, path);
    }

    /// <summary>Parses manifest text; <paramref name="source"/> names it in errors.</summary>
    public static SplitManifest Parse(string json, string source) => SplitManifestReader.Parse(json, source);

    // ------------------------------------------------------------------------------------------------------------
    // Validation.

    void Validate(string source)
    {
        void Fail(string problem) => throw new DatasetFormatException(source, problem);

        if (string.IsNullOrEmpty(Dataset))
            Fail("dataset name is empty");
        if (Shots < 1)
            Fail($"shots is {Shots}; it must be at least 1");
        if (Seed is null && Sampling != SamplingMode.Imported)
            Fail($"seed is missing; only imported splits may have no seed");
        if (ClassNames.Count == 0)
            Fail("class_names is empty");
        for (int i = 0; i < ClassNames.Count; i++)
            if (ClassNames[i] is null)
                Fail($"class_names[{i}] is null");
        foreach (var (name, items) in Splits)
            ValidateItems(source, name, items, ClassNames.Count);
        for (int i = 0; i < ShortClasses.Count; i++)
        {
            var s = ShortClasses[i];
            if (s.Split is not ("train" or "val"))
                Fail($"short_classes[{i}]: split '{s.Split}' is neither 'train' nor 'val'");
            if (s.Label < 0 || s.Label >= ClassNames.Count)
                Fail($"short_classes[{i}]: label {s.Label} is outside 0..{ClassNames.Count - 1}");
            if (s.Available < 0 || s.Available >= s.Requested)
                Fail($"short_classes[{i}]: {s.Available} available of {s.Requested} requested is not a shortfall");
            if (s.ClassName is null)
                Fail($"short_classes[{i}]: class is null");
        }
    }

    /// <summary>Checks one list: relative '/'-separated paths without '..', labels in range, no path twice.</summary>
    internal static void ValidateItems(string source, string split, IReadOnlyList<DatasetItem> items, int classCount)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (item is null)
                throw new DatasetFormatException(source, $"{split}[{i}] is null");
            string where = $"{split}[{i}] '{item.ImagePath}'";
            if (PathProblem(item.ImagePath) is string problem)
                throw new DatasetFormatException(source, $"{where}: {problem}");
            if (item.Label < 0 || item.Label >= classCount)
                throw new DatasetFormatException(source,
                    $"{where}: label {item.Label} is outside 0..{classCount - 1} ({classCount} class names)");
            if (item.ClassName is null)
                throw new DatasetFormatException(source, $"{where}: classname is null");
            if (!seen.TryAdd(item.ImagePath, i))
                throw new DatasetFormatException(source, $"{where}: listed twice (also {split}[{seen[item.ImagePath]}])");
        }
    }

    /// <summary>Null for a usable relative image path, else what is wrong with it.</summary>
    public static string? PathProblem(string? path)
    {
        if (string.IsNullOrEmpty(path))
            return "path is empty";
        if (path.Contains('\\'))
            return "path contains '\\'; use '/' separators";
        if (path.StartsWith('/') || (path.Length >= 2 && path[1] == ':' && char.IsAsciiLetter(path[0])))
            return "path is absolute; it must be relative to the dataset's image folder";
        if (path.Contains('\0'))
            return "path contains a NUL character";
        foreach (var part in path.Split('/'))
            if (part == "..")
                return "path contains '..'";
        return null;
    }

    // ------------------------------------------------------------------------------------------------------------
    // CoOp split files.

    /// <summary>
    /// The split in CoOp's <c>split_zhou_*.json</c> layout, byte for byte as CoOp's <c>save_split</c> (Dassl's
    /// <c>write_json</c>) writes it: <c>{"train": [...], "val": [...], "test": [...]}</c>, indent 4, separators
    /// <c>","</c>/<c>": "</c>, non-ASCII as <c>\uxxxx</c>, no final newline. CoOp's <c>read_split</c> reads it.
    /// </summary>
    public string ToCoOpJson()
    {
        var sb = new StringBuilder();
        sb.Append('{');
        bool first = true;
        foreach (var (name, items) in Splits)
        {
            sb.Append(first ? "\n    " : ",\n    ");
            first = false;
            sb.Append('"').Append(name).Append("\": ");
            if (items.Count == 0)
            {
                sb.Append("[]");
                continue;
            }
            sb.Append('[');
            for (int i = 0; i < items.Count; i++)
            {
                var item = items[i];
                sb.Append(i == 0 ? "\n        [\n            " : ",\n        [\n            ");
                PyJson.WriteString(sb, item.ImagePath, true);
                sb.Append(",\n            ").Append(Int(item.Label)).Append(",\n            ");
                PyJson.WriteString(sb, item.ClassName, true);
                sb.Append("\n        ]");
            }
            sb.Append("\n    ]");
        }
        sb.Append("\n}");
        return sb.ToString();
    }

    /// <summary>Writes <see cref="ToCoOpJson"/> atomically; an existing different file is an error unless <paramref name="overwrite"/>.</summary>
    public WriteOutcome ExportCoOp(string path, bool overwrite = false)
    {
        var bytes = Encoding.ASCII.GetBytes(ToCoOpJson());
        return ManifestFile.Write(path, bytes, overwrite,
            existing => File.ReadAllBytes(existing).AsSpan().SequenceEqual(bytes) ? null : "it holds different content",
            "CoOp split file");
    }

    /// <summary>
    /// Reads a CoOp-format split file into a manifest. Class names come from the entries (each label must keep one
    /// class name and labels must cover 0..C-1; underscores become spaces, as in <see cref="ImageDataset.ClassNames"/>).
    /// A full split (<see cref="CoOpImportOptions.AlreadyFewShot"/> false) is sampled with Dassl's procedure; an already
    /// few-shot split is taken as it is (sampling "imported"), after checking that no class has more than K train items
    /// (or more than the validation shots in val).
    /// </summary>
    public static SplitManifest ImportCoOp(string path, string dataset, CoOpImportOptions options) =>
        CoOpSplitFile.Import(path, dataset, options);
}

/// <summary>How <see cref="SplitManifest.ImportCoOp"/> treats the file.</summary>
/// <param name="Shots">K: the shots to sample, or the shots the few-shot file was made with.</param>
/// <param name="Seed">The Python seed to sample with (required for a full split), or the seed the few-shot file was made
/// with, if known.</param>
/// <param name="AlreadyFewShot">True when the file already holds the K-shot train/val lists.</param>
/// <param name="ValShots">Validation shots; default <c>min(K, 4)</c>.</param>
/// <param name="Root">The dataset folder, recorded as information; default the file's folder.</param>
public sealed record CoOpImportOptions(
    int Shots, int? Seed = null, bool AlreadyFewShot = false, int? ValShots = null, string? Root = null);
