using System.Text.Json;

namespace Peft.Data.Datasets;

/// <summary>
/// A custom dataset in CoOp's layout (<c>coop_layout</c>), e.g. made by our synthetic generator: the folder holds
/// <c>dataset.json</c> = <c>{"name": "...", "classnames": [...], "templates": ["a photo of a {}."], "image_dir": "images", "split_file": "split.json"}</c>
/// and the split file in CoOp's <c>split_zhou</c> format (<see cref="CoopSplitFile"/>), with paths relative to <c>image_dir</c>.
/// <c>classnames</c> is the class list (label = index); each split item's class name must equal <c>classnames[label]</c>.
/// Optional fields: <c>name</c> (default: the folder name; becomes <see cref="ImageDataset.Name"/>), <c>templates</c>
/// (default <c>a photo of a {}.</c>; each needs a <c>{}</c>), <c>image_dir</c> (default <c>images</c>; relative, inside the folder),
/// <c>split_file</c> (default <c>split.json</c>). A dataset with no train and no val items is test-only.
/// </summary>
public sealed class CoopLayoutReader : IDatasetReader
{
    public const string DescriptorFile = "dataset.json";
    public string Name => "coop_layout";
    public string Description => "a custom dataset in CoOp's layout: dataset.json (name, classnames, templates, image_dir, split_file) + a split_zhou-format split file";

    public ImageDataset Read(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        string dir = Path.GetFullPath(root);
        if (!Directory.Exists(dir))
            throw new DatasetFormatException(dir, "dataset folder not found");
        string file = Path.Combine(dir, DescriptorFile);
        if (!File.Exists(file))
            throw new DatasetFormatException(file, "not found (a coop_layout dataset folder holds dataset.json)");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(file));
        }
        catch (JsonException e)
        {
            throw new DatasetFormatException(file, $"not valid JSON (line {e.LineNumber + 1}): {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetFormatException(file, $"cannot read: {e.Message}", e);
        }
        using (doc)
        {
            var o = doc.RootElement;
            if (o.ValueKind != JsonValueKind.Object)
                throw new DatasetFormatException(file, $"expected a JSON object, got {o.ValueKind}");
            string name = OptionalString(file, o, "name") ?? Path.GetFileName(dir.TrimEnd(Path.DirectorySeparatorChar));
            var classes = StringList(file, o, "classnames") ?? throw new DatasetFormatException(file, "missing 'classnames' (the class names in label order)");
            if (classes.Count == 0)
                throw new DatasetFormatException(file, "'classnames' is empty");
            var templates = StringList(file, o, "templates") ?? ["a photo of a {}."];
            if (templates.Count == 0)
                throw new DatasetFormatException(file, "'templates' is empty");
            for (int i = 0; i < templates.Count; i++)
                if (!templates[i].Contains("{}", StringComparison.Ordinal))
                    throw new DatasetFormatException(file, $"templates[{i}] '{templates[i]}' has no '{{}}' for the class name");
            string imageDir = DatasetRules.SafeRelativePath(file, "image_dir", OptionalString(file, o, "image_dir") ?? "images");
            string splitFile = DatasetRules.SafeRelativePath(file, "split_file", OptionalString(file, o, "split_file") ?? "split.json");
            string splitPath = Path.Combine(dir, splitFile);
            var s = CoopSplitFile.Read(splitPath);
            return DatasetRules.Build(name, dir, Path.Combine(dir, imageDir), splitPath, classes, templates, s.Train, s.Val, s.Test);
        }
    }

    static string? OptionalString(string file, JsonElement o, string key)
    {
        if (!o.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString()
            : throw new DatasetFormatException(file, $"'{key}' must be a string, got {v.ValueKind}");
    }

    static List<string>? StringList(string file, JsonElement o, string key)
    {
        if (!o.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Array)
            throw new DatasetFormatException(file, $"'{key}' must be a list of strings, got {v.ValueKind}");
        var list = new List<string>();
        int i = 0;
        foreach (var e in v.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.String)
                throw new DatasetFormatException(file, $"{key}[{i}] must be a string, got {e.ValueKind}");
            list.Add(e.GetString()!);
            i++;
        }
        return list;
    }
}
