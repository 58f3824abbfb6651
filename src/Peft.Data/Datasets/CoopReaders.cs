namespace Peft.Data.Datasets;

/// <summary>
/// The nine CoOp datasets with a released <c>split_zhou_*.json</c>: Caltech101, OxfordPets, StanfordCars, OxfordFlowers,
/// Food101, SUN397, DTD, EuroSAT, UCF101. As in CoOp (<c>OxfordPets.read_split</c>), items and class names come from the
/// JSON triples as they are: the renames CoOp's code holds (Caltech101 <c>airplanes→airplane</c>, ..., EuroSAT
/// <c>AnnualCrop→Annual Crop Land</c>, ..., SUN397's reversed path parts, UCF101's <c>Apply_Eye_Makeup</c>) only run when
/// CoOp <em>creates</em> a split, and the released JSONs already hold their result. This reader never creates a split:
/// a missing JSON is an error (use the <c>imagefolder</c> reader for a split of our own). Paths are relative to
/// <see cref="CoopDatasetInfo.ImageDir"/> (StanfordCars: to the dataset folder).
/// </summary>
public sealed class SplitZhouReader : IDatasetReader
{
    public SplitZhouReader(CoopDatasetInfo info)
    {
        if (!info.MarkerFile.StartsWith("split_zhou_", StringComparison.Ordinal))
            throw new ArgumentException($"{info.Name} has no split_zhou file", nameof(info));
        Info = info;
    }

    public CoopDatasetInfo Info { get; }
    public string Name => Info.Name;
    public string Description =>
        $"CoOp {Info.DasslName}: $DATA/{Info.Folder}/{Info.MarkerFile}, images under {(Info.ImageDir.Length == 0 ? "the dataset folder" : Info.ImageDir + "/")}";

    public ImageDataset Read(string root)
    {
        string dir = Info.ResolveDatasetDir(root);
        string split = Path.Combine(dir, Info.MarkerFile);
        if (!File.Exists(split))
            throw new DatasetFormatException(split, $"split file not found; download CoOp's {Info.MarkerFile} (see CoOp's DATASETS.md) into the {Info.Folder}/ folder, or read the images with the 'imagefolder' reader");
        var s = CoopSplitFile.Read(split);
        string imageRoot = Info.ImageDir.Length == 0 ? dir : Path.Combine(dir, Info.ImageDir);
        return DatasetRules.Build(Info.Name, dir, imageRoot, split, null, [Info.Template], s.Train, s.Val, s.Test);
    }
}

/// <summary>
/// CoOp's FGVCAircraft: class names are the lines of <c>variants.txt</c> in file order (label = line index); items from
/// <c>images_variant_{train,val,test}.txt</c>, each line <c>&lt;image id&gt; &lt;variant&gt;</c> → <c>images/&lt;id&gt;.jpg</c>
/// with the label of that variant. A variant missing from <c>variants.txt</c> is an error (CoOp: KeyError).
/// Blank lines are skipped (the released files have none).
/// </summary>
public sealed class FgvcAircraftReader : IDatasetReader
{
    public static readonly CoopDatasetInfo Info = CoopDatasetInfo.Get("fgvc_aircraft");
    public string Name => Info.Name;
    public string Description => "CoOp FGVCAircraft: $DATA/fgvc_aircraft/variants.txt + images_variant_{train,val,test}.txt, images under images/";

    public ImageDataset Read(string root)
    {
        string dir = Info.ResolveDatasetDir(root);
        string variantsFile = Path.Combine(dir, "variants.txt");
        var classes = new List<string>();
        var lab = new Dictionary<string, int>(StringComparer.Ordinal);
        var lines = DatasetRules.ReadLines(variantsFile);
        for (int i = 0; i < lines.Length; i++)
        {
            string v = lines[i].Trim();
            if (v.Length == 0) continue;
            if (!lab.TryAdd(v, classes.Count))
                throw new DatasetFormatException(variantsFile, $"line {i + 1}: variant '{v}' is listed twice");
            classes.Add(v);
        }
        if (classes.Count == 0)
            throw new DatasetFormatException(variantsFile, "no variants");

        List<DatasetItem> ReadSplit(string split)
        {
            string file = Path.Combine(dir, $"images_variant_{split}.txt");
            var items = new List<DatasetItem>();
            var l = DatasetRules.ReadLines(file);
            for (int i = 0; i < l.Length; i++)
            {
                string line = l[i].Trim();
                if (line.Length == 0) continue;
                int sp = line.IndexOf(' ');
                if (sp <= 0)
                    throw new DatasetFormatException(file, $"line {i + 1}: expected '<image id> <variant>', got '{line}'");
                string id = line[..sp], variant = line[(sp + 1)..];
                if (!lab.TryGetValue(variant, out int label))
                    throw new DatasetFormatException(file, $"line {i + 1}: variant '{variant}' is not in variants.txt");
                items.Add(new DatasetItem(DatasetRules.SafeRelativePath(file, $"line {i + 1}", id + ".jpg"), label, variant));
            }
            return items;
        }

        var train = ReadSplit("train");
        var val = ReadSplit("val");
        var test = ReadSplit("test");
        return DatasetRules.Build(Info.Name, dir, Path.Combine(dir, Info.ImageDir), variantsFile, classes, [Info.Template], train, val, test);
    }
}

/// <summary>
/// CoOp's ImageNet: class folders of <c>images/train</c> sorted (label = position), names from <c>classnames.txt</c>
/// (<c>&lt;wnid&gt; &lt;class name&gt;</c> per line). Test = <c>images/val</c> read the same way, and, as in CoOp, the
/// validation split is the test split (<see cref="ImageDataset.Val"/> is the same list). CoOp labels val by its own sorted
/// folder list; here val must have exactly the train folders, else the labels would silently disagree. Every non-hidden
/// file of a class folder is an item (CoOp: <c>listdir_nohidden</c>), in ordinal order (CoOp: filesystem order).
/// </summary>
public sealed class ImageNetReader : IDatasetReader
{
    public static readonly CoopDatasetInfo Info = CoopDatasetInfo.Get("imagenet");
    public string Name => Info.Name;
    public string Description => "CoOp ImageNet: $DATA/imagenet/classnames.txt + images/train/<wnid>/, images/val/<wnid>/ (val is the test set)";

    public ImageDataset Read(string root)
    {
        string dir = Info.ResolveDatasetDir(root);
        string namesFile = Path.Combine(dir, "classnames.txt");
        var names = DatasetRules.ReadClassNamesTxt(namesFile).ToDictionary(e => e.Folder, e => e.Name, StringComparer.Ordinal);
        string imageRoot = Path.Combine(dir, Info.ImageDir);
        string trainDir = Path.Combine(imageRoot, "train"), valDir = Path.Combine(imageRoot, "val");
        foreach (var d in new[] { trainDir, valDir })
            if (!Directory.Exists(d))
                throw new DatasetFormatException(d, "folder not found (CoOp's ImageNet layout: imagenet/images/train/<wnid>/ and imagenet/images/val/<wnid>/; val needs class folders, see CoOp issue #60 / valprep.sh)");
        var folders = DatasetRules.ListDirectories(trainDir);
        if (folders.Length == 0)
            throw new DatasetFormatException(trainDir, "no class folders");
        var valFolders = DatasetRules.ListDirectories(valDir);
        if (!valFolders.SequenceEqual(folders, StringComparer.Ordinal))
        {
            var onlyVal = valFolders.Except(folders, StringComparer.Ordinal).ToList();
            var onlyTrain = folders.Except(valFolders, StringComparer.Ordinal).ToList();
            throw new DatasetFormatException(valDir, "class folders differ from images/train (labels come from each folder's sorted list)"
                + (onlyVal.Count > 0 ? $"; only in val: {string.Join(", ", onlyVal.Take(5))}{(onlyVal.Count > 5 ? ", ..." : "")}" : "")
                + (onlyTrain.Count > 0 ? $"; only in train: {string.Join(", ", onlyTrain.Take(5))}{(onlyTrain.Count > 5 ? ", ..." : "")}" : ""));
        }
        var classes = new List<string>();
        foreach (var f in folders)
            classes.Add(names.TryGetValue(f, out var n) ? n : throw new DatasetFormatException(namesFile, $"no class name for folder '{f}' of images/train"));

        var train = ImageNetFolders.ReadClassFolders(imageRoot, "train", folders, classes);
        var test = ImageNetFolders.ReadClassFolders(imageRoot, "val", folders, classes);
        return DatasetRules.Build(Info.Name, dir, imageRoot, namesFile, classes, [Info.Template], train, test, test, valIsTest: true) with { ClassIds = folders };
    }
}

/// <summary>
/// The ImageNet test-only variants as CoOp reads them (each folder holds a copy of ImageNet's <c>classnames.txt</c>):
/// <list type="bullet">
/// <item><c>imagenetv2</c>: <c>imagenetv2/imagenetv2-matched-frequency-format-val/&lt;k&gt;/</c>, folder <c>k</c> = label k = the k-th
/// line of classnames.txt (CoOp loops <c>range(1000)</c>; here k runs over the lines of classnames.txt, 1000 for the real file).</item>
/// <item><c>imagenet_sketch</c>: <c>imagenet-sketch/images/&lt;wnid&gt;/</c>, sorted folders, label = position.</item>
/// <item><c>imagenet_a</c>, <c>imagenet_r</c>: <c>imagenet-adversarial/imagenet-a/</c>, <c>imagenet-rendition/imagenet-r/</c>: 200 wnid
/// folders, sorted, label = position 0..199 (not the ImageNet index), names from classnames.txt; <c>README.txt</c> ignored.</item>
/// </list>
/// All items are the test split; train and val are empty.
/// </summary>
public sealed class ImageNetVariantReader : IDatasetReader
{
    public ImageNetVariantReader(string name)
    {
        if (name is not ("imagenetv2" or "imagenet_sketch" or "imagenet_a" or "imagenet_r"))
            throw new ArgumentException($"not an ImageNet variant: {name}", nameof(name));
        Info = CoopDatasetInfo.Get(name);
    }

    public CoopDatasetInfo Info { get; }
    public string Name => Info.Name;
    public string Description => $"CoOp {Info.DasslName} (test only): $DATA/{Info.Folder}/classnames.txt + {Info.ImageDir}/<{(Name == "imagenetv2" ? "label" : "wnid")}>/";

    public ImageDataset Read(string root)
    {
        string dir = Info.ResolveDatasetDir(root);
        string namesFile = Path.Combine(dir, "classnames.txt");
        var entries = DatasetRules.ReadClassNamesTxt(namesFile);
        string imageRoot = Path.Combine(dir, Info.ImageDir);
        if (!Directory.Exists(imageRoot))
            throw new DatasetFormatException(imageRoot, $"image folder not found ({Info.DasslName} layout: {Info.Folder}/{Info.ImageDir}/)");
        string[] folders;
        List<string> classes;
        IReadOnlyList<string> wnids;
        if (Name == "imagenetv2")
        {
            folders = Enumerable.Range(0, entries.Count).Select(k => k.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            var extra = DatasetRules.ListDirectories(imageRoot).Except(folders, StringComparer.Ordinal).ToList();
            if (extra.Count > 0)
                throw new DatasetFormatException(imageRoot, $"folder{(extra.Count > 1 ? "s" : "")} {string.Join(", ", extra.Take(5))} {(extra.Count > 1 ? "are" : "is")} not a label 0..{entries.Count - 1} of the {entries.Count} classes in classnames.txt");
            classes = entries.Select(e => e.Name).ToList();
            wnids = entries.Select(e => e.Folder).ToList(); // folder k holds the k-th line's class
        }
        else
        {
            folders = DatasetRules.ListDirectories(imageRoot);
            if (folders.Length == 0)
                throw new DatasetFormatException(imageRoot, "no class folders");
            var names = entries.ToDictionary(e => e.Folder, e => e.Name, StringComparer.Ordinal);
            classes = folders.Select(f => names.TryGetValue(f, out var n) ? n
                : throw new DatasetFormatException(namesFile, $"no class name for folder '{f}' of {Info.ImageDir}/")).ToList();
            wnids = folders;
        }
        var test = ImageNetFolders.ReadClassFolders(imageRoot, "", folders, classes);
        return DatasetRules.Build(Info.Name, dir, imageRoot, namesFile, classes, [Info.Template], [], [], test) with { ClassIds = wnids };
    }
}

internal static class ImageNetFolders
{
    /// <summary>Items of <c>imageRoot/sub/folders[label]/*</c>; a missing class folder is an error.</summary>
    public static List<DatasetItem> ReadClassFolders(string imageRoot, string sub, IReadOnlyList<string> folders, IReadOnlyList<string> classes)
    {
        var items = new List<DatasetItem>();
        for (int label = 0; label < folders.Count; label++)
        {
            string rel = sub.Length == 0 ? folders[label] : sub + "/" + folders[label];
            string classDir = Path.Combine(imageRoot, rel);
            if (!Directory.Exists(classDir))
                throw new DatasetFormatException(classDir, $"class folder for label {label} ('{classes[label]}') not found");
            foreach (var f in DatasetRules.ListFiles(classDir))
                items.Add(new DatasetItem(rel + "/" + f, label, classes[label]));
        }
        return items;
    }
}
