using System.Text.Json;
using Peft.Data.Datasets;

namespace Peft.Data.Splits;

/// <summary>Reading CoOp's <c>split_zhou_*.json</c> layout (<c>{"train": [...], "val": [...], "test": [...]}</c>).</summary>
public static class CoOpSplitFile
{
    /// <summary>The three lists of a CoOp split file and the class names they imply.</summary>
    public sealed record Contents(
        IReadOnlyList<string> ClassNames, IReadOnlyList<DatasetItem> Train, IReadOnlyList<DatasetItem> Val,
        IReadOnlyList<DatasetItem> Test);

    /// <summary>Reads a CoOp split file; errors name the file and the entry.</summary>
    public static Contents Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path, PyJson.StrictUtf8);
        }
        catch (System.Text.DecoderFallbackException e)
        {
            throw new DatasetFormatException(path, "not valid UTF-8", e);
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new DatasetFormatException(path, $"not valid JSON: {e.Message}", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new DatasetFormatException(path, "a CoOp split file is a JSON object with train, val and test lists");
            var m = SplitManifestReader.Members(doc.RootElement, path, "the split file");
            foreach (var k in new[] { "train", "val", "test" })
                if (!m.ContainsKey(k))
                    throw new DatasetFormatException(path, $"'{k}' list is missing");
            var train = SplitManifestReader.Triples(m["train"], path, "train");
            var val = SplitManifestReader.Triples(m["val"], path, "val");
            var test = SplitManifestReader.Triples(m["test"], path, "test");
            var classNames = ClassNamesOf(path, [("train", train), ("val", val), ("test", test)]);
            foreach (var (name, items) in new[] { ("train", train), ("val", val), ("test", test) })
                SplitManifest.ValidateItems(path, name, items, classNames.Count);
            return new Contents(classNames, train, val, test);
        }
    }

    /// <summary>
    /// Label → class name over all entries, as CoOp's <c>get_lab2cname</c> (labels ascending), but strict: one name per
    /// label and no label missing from 0..max. Underscores become spaces (the <see cref="ImageDataset.ClassNames"/> convention;
    /// CoOp's prompt learner does the same replacement).
    /// </summary>
    static List<string> ClassNamesOf(string path, (string Split, List<DatasetItem> Items)[] splits)
    {
        var names = new SortedDictionary<int, (string Name, string Where)>();
        foreach (var (split, items) in splits)
            for (int i = 0; i < items.Count; i++)
            {
                var item = items[i];
                string where = $"{split}[{i}] '{item.ImagePath}'";
                if (item.Label < 0)
                    throw new DatasetFormatException(path, $"{where}: label {item.Label} is negative");
                if (names.TryGetValue(item.Label, out var known))
                {
                    if (known.Name != item.ClassName)
                        throw new DatasetFormatException(path,
                            $"{where}: label {item.Label} is '{item.ClassName}' here but '{known.Name}' at {known.Where}");
                }
                else
                {
                    names.Add(item.Label, (item.ClassName, where));
                }
            }
        if (names.Count == 0)
            throw new DatasetFormatException(path, "no entries: train, val and test are all empty");
        var list = new List<string>();
        foreach (var (label, (name, _)) in names)
        {
            if (label != list.Count)
                throw new DatasetFormatException(path,
                    $"label {list.Count} never appears (labels go up to {names.Keys.Max()}), so its class name is unknown");
            list.Add(name.Replace('_', ' '));
        }
        return list;
    }

    internal static SplitManifest Import(string path, string dataset, CoOpImportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Shots < 1)
            throw new ArgumentException($"shots is {options.Shots}; it must be at least 1");
        var contents = Read(path);
        var root = options.Root ?? Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!options.AlreadyFewShot)
        {
            if (options.Seed is not int seed)
                throw new ArgumentException("sampling a full CoOp split needs a seed", nameof(options));
            var data = new ImageDataset
            {
                Name = dataset,
                Root = root,
                ImageRoot = root,
                ClassNames = contents.ClassNames,
                Templates = [],
                Train = contents.Train,
                Val = contents.Val,
                Test = contents.Test,
            };
            return SplitManifest.Create(data, new FewShotRequest(options.Shots, seed, SamplingMode.Dassl, options.ValShots));
        }

        int valShots = options.ValShots ?? Math.Min(options.Shots, 4);
        var shorts = new List<ShortClass>();
        CheckFewShot(path, "train", contents.Train, options.Shots, shorts);
        CheckFewShot(path, "val", contents.Val, valShots, shorts);
        var all = shorts.Where(s => s.Split == "train")
            .Concat(SplitManifest.AbsentClasses("train", contents.Train, options.Shots, contents.ClassNames))
            .Concat(shorts.Where(s => s.Split == "val"))
            .Concat(SplitManifest.AbsentClasses("val", contents.Val, valShots, contents.ClassNames))
            .ToList();
        return new SplitManifest(dataset, root, DateTimeOffset.UtcNow, SamplingMode.Imported, options.Shots, options.Seed,
            valShots, contents.ClassNames, contents.Train, contents.Val, contents.Test, all, path);
    }

    /// <summary>An imported few-shot list may not have more than <paramref name="shots"/> items of a class; fewer are recorded.</summary>
    static void CheckFewShot(string path, string split, IReadOnlyList<DatasetItem> items, int shots, List<ShortClass> shorts)
    {
        if (shots < 1)
            return;
        foreach (var group in FewShotSampler.GroupByLabelInFirstAppearanceOrder(items))
        {
            if (group.Count > shots)
                throw new DatasetFormatException(path,
                    $"{split} has {group.Count} items of class {group[0].Label} '{group[0].ClassName}', more than {shots}: " +
                    $"not a {shots}-shot split (import it as a full split to sample from, or give the right shots)");
            if (group.Count < shots)
                shorts.Add(new ShortClass(split, group[0].Label, group[0].ClassName, group.Count, shots));
        }
    }
}
