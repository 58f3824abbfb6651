using System.Globalization;
using System.Text.Json;
using Peft.Data.Datasets;

namespace Peft.Data.Splits;

/// <summary>Parses and checks manifest JSON (any field order, any whitespace); every error names the source and the entry.</summary>
static class SplitManifestReader
{
    static readonly string[] Known =
    [
        "format", "format_version", "sha256", "dataset", "root", "created_utc", "sampling", "shots", "seed", "val_shots",
        "class_names", "short_classes", "train", "val", "test",
    ];

    static readonly string[] Optional = ["root", "created_utc"];

    public static SplitManifest Parse(string json, string source)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = false, MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new DatasetFormatException(source, $"not valid JSON: {e.Message}", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Fail(source, "a split manifest is a JSON object");
            var fields = Members(root, source, "the manifest");
            foreach (var name in fields.Keys)
                if (!Known.Contains(name))
                    throw Fail(source, $"unknown field '{name}' (this reader knows format_version {SplitManifest.FormatVersion})");
            foreach (var name in Known)
                if (!fields.ContainsKey(name) && !Optional.Contains(name))
                    throw Fail(source, $"field '{name}' is missing");

            var format = String(fields["format"], source, "format");
            if (format != SplitManifest.FormatName)
                throw Fail(source, $"format is '{format}', not '{SplitManifest.FormatName}'");
            int version = Int(fields["format_version"], source, "format_version");
            if (version != SplitManifest.FormatVersion)
                throw Fail(source, $"format_version {version} is not supported (this reader knows {SplitManifest.FormatVersion})");
            var sha = String(fields["sha256"], source, "sha256");
            var dataset = String(fields["dataset"], source, "dataset");
            var rootPath = fields.TryGetValue("root", out var r) ? NullableString(r, source, "root") : null;
            DateTimeOffset? created = null;
            if (fields.TryGetValue("created_utc", out var c) && NullableString(c, source, "created_utc") is string cs)
            {
                if (!DateTimeOffset.TryParse(cs, CultureInfo.InvariantCulture,
                        DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
                    throw Fail(source, $"created_utc '{cs}' is not a date and time");
                created = t;
            }
            var samplingName = String(fields["sampling"], source, "sampling");
            if (!SamplingModes.TryParse(samplingName, out var sampling))
                throw Fail(source, $"sampling '{samplingName}' is not one of: dassl, imported");
            int shots = Int(fields["shots"], source, "shots");
            int? seed = fields["seed"].ValueKind == JsonValueKind.Null ? null : Int(fields["seed"], source, "seed");
            int valShots = Int(fields["val_shots"], source, "val_shots");
            var classNames = Array(fields["class_names"], source, "class_names")
                .Select((e, i) => String(e, source, $"class_names[{i}]")).ToList();
            var shorts = Array(fields["short_classes"], source, "short_classes")
                .Select((e, i) => ShortClass(e, source, $"short_classes[{i}]")).ToList();
            var train = Triples(fields["train"], source, "train");
            var val = Triples(fields["val"], source, "val");
            var test = Triples(fields["test"], source, "test");

            var manifest = new SplitManifest(dataset, rootPath, created, sampling, shots, seed, valShots, classNames,
                train, val, test, shorts, source);
            if (!string.Equals(manifest.Sha256, sha, StringComparison.Ordinal))
                throw Fail(source,
                    $"sha256 mismatch: the file says {sha} but its content hashes to {manifest.Sha256} (edited or corrupted?)");
            return manifest;
        }
    }

    /// <summary>The triples of one split: <c>[relative_path, label, classname]</c>.</summary>
    internal static List<DatasetItem> Triples(JsonElement e, string source, string split)
    {
        var list = new List<DatasetItem>();
        int i = 0;
        foreach (var t in Array(e, source, split))
        {
            string where = $"{split}[{i}]";
            if (t.ValueKind != JsonValueKind.Array || t.GetArrayLength() != 3)
                throw Fail(source, $"{where}: expected [relative_path, label, classname], found {Show(t)}");
            var path = String(t[0], source, $"{where} path");
            int label = Int(t[1], source, $"{where} '{path}' label");
            var name = String(t[2], source, $"{where} '{path}' classname");
            list.Add(new DatasetItem(path, label, name));
            i++;
        }
        return list;
    }

    static ShortClass ShortClass(JsonElement e, string source, string where)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw Fail(source, $"{where}: expected an object, found {Show(e)}");
        var m = Members(e, source, where);
        string[] names = ["split", "label", "class", "available", "requested"];
        foreach (var k in m.Keys)
            if (!names.Contains(k))
                throw Fail(source, $"{where}: unknown field '{k}'");
        foreach (var k in names)
            if (!m.ContainsKey(k))
                throw Fail(source, $"{where}: field '{k}' is missing");
        return new ShortClass(String(m["split"], source, $"{where}.split"), Int(m["label"], source, $"{where}.label"),
            String(m["class"], source, $"{where}.class"), Int(m["available"], source, $"{where}.available"),
            Int(m["requested"], source, $"{where}.requested"));
    }

    internal static Dictionary<string, JsonElement> Members(JsonElement obj, string source, string where)
    {
        var d = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var p in obj.EnumerateObject())
            if (!d.TryAdd(p.Name, p.Value))
                throw Fail(source, $"{where}: field '{p.Name}' appears twice");
        return d;
    }

    internal static JsonElement.ArrayEnumerator Array(JsonElement e, string source, string what) =>
        e.ValueKind == JsonValueKind.Array
            ? e.EnumerateArray()
            : throw Fail(source, $"{what}: expected a list, found {Show(e)}");

    internal static string String(JsonElement e, string source, string what) =>
        e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Fail(source, $"{what}: expected a string, found {Show(e)}");

    static string? NullableString(JsonElement e, string source, string what) =>
        e.ValueKind == JsonValueKind.Null ? null : String(e, source, what);

    internal static int Int(JsonElement e, string source, string what) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int v)
            ? v
            : throw Fail(source, $"{what}: expected an integer, found {Show(e)}");

    static string Show(JsonElement e)
    {
        var raw = e.GetRawText();
        return raw.Length <= 60 ? raw : raw[..57] + "...";
    }

    internal static DatasetFormatException Fail(string source, string problem) => new(source, problem);
}
