using System.Text.Json;

namespace Peft.Data.Datasets;

/// <summary>
/// CoOp's split file (<c>split_zhou_*.json</c>, written by <c>OxfordPets.save_split</c>, read by <c>OxfordPets.read_split</c>):
/// a JSON object with keys <c>train</c>, <c>val</c>, <c>test</c>, each a list of <c>[relative_image_path, integer_label, classname]</c>.
/// Paths are checked with <see cref="DatasetRules.SafeRelativePath"/>; labels must be JSON integers (CoOp applies <c>int()</c>).
/// </summary>
public static class CoopSplitFile
{
    public sealed record Splits(List<DatasetItem> Train, List<DatasetItem> Val, List<DatasetItem> Test);

    public static Splits Read(string file)
    {
        if (!File.Exists(file))
            throw new DatasetFormatException(file, "split file not found");
        JsonDocument doc;
        try
        {
            using var stream = File.OpenRead(file);
            doc = JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = false });
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
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new DatasetFormatException(file, $"expected a JSON object with keys train, val, test; got {doc.RootElement.ValueKind}");
            return new Splits(ReadList(file, doc.RootElement, "train"), ReadList(file, doc.RootElement, "val"), ReadList(file, doc.RootElement, "test"));
        }
    }

    static List<DatasetItem> ReadList(string file, JsonElement root, string key)
    {
        if (!root.TryGetProperty(key, out var list))
            throw new DatasetFormatException(file, $"missing key '{key}' (a split file has train, val and test lists)");
        if (list.ValueKind != JsonValueKind.Array)
            throw new DatasetFormatException(file, $"'{key}' is a {list.ValueKind}, expected a list of [path, label, classname]");
        var items = new List<DatasetItem>(list.GetArrayLength());
        int i = 0;
        foreach (var entry in list.EnumerateArray())
        {
            string where = $"{key}[{i}]";
            if (entry.ValueKind != JsonValueKind.Array || entry.GetArrayLength() != 3)
                throw new DatasetFormatException(file, $"{where}: expected [path, label, classname], got {Abbrev(entry.GetRawText())}");
            var path = entry[0];
            var label = entry[1];
            var name = entry[2];
            if (path.ValueKind != JsonValueKind.String)
                throw new DatasetFormatException(file, $"{where}: image path must be a string, got {Abbrev(path.GetRawText())}");
            if (label.ValueKind != JsonValueKind.Number || !label.TryGetInt32(out int lab))
                throw new DatasetFormatException(file, $"{where}: label must be an integer, got {Abbrev(label.GetRawText())}");
            if (name.ValueKind != JsonValueKind.String)
                throw new DatasetFormatException(file, $"{where}: class name must be a string, got {Abbrev(name.GetRawText())}");
            items.Add(new DatasetItem(DatasetRules.SafeRelativePath(file, where, path.GetString()), lab, name.GetString()!));
            i++;
        }
        return items;
    }

    static string Abbrev(string s) => s.Length <= 60 ? s : s[..57] + "...";

    /// <summary>Writes a split file in CoOp's format (indented like Dassl's <c>write_json</c>); paths are checked first.</summary>
    public static void Write(string file, IEnumerable<DatasetItem> train, IEnumerable<DatasetItem> val, IEnumerable<DatasetItem> test)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(file))!;
        Directory.CreateDirectory(dir);
        using var stream = File.Create(file);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        foreach (var (key, items) in new[] { ("train", train), ("val", val), ("test", test) })
        {
            w.WriteStartArray(key);
            int i = 0;
            foreach (var it in items)
            {
                w.WriteStartArray();
                w.WriteStringValue(DatasetRules.SafeRelativePath(file, $"{key}[{i++}]", it.ImagePath));
                w.WriteNumberValue(it.Label);
                w.WriteStringValue(it.ClassName);
                w.WriteEndArray();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }
}
