namespace Peft.Data.Datasets;

/// <summary>
/// The dataset readers by name. Names are matched case-insensitively with '_' and '-' ignored, so CoOp's config names
/// (<c>oxford_pets</c>), its Dassl class names (<c>OxfordPets</c>, <c>DescribableTextures</c>) and its folder names
/// (<c>caltech-101</c>, <c>imagenet-sketch</c>, <c>imagenet-adversarial</c>) all resolve.
/// </summary>
public static class DatasetRegistry
{
    static readonly IReadOnlyList<IDatasetReader> Readers = BuildReaders();
    static readonly Dictionary<string, IDatasetReader> ByKey = BuildKeys();

    /// <summary>All readers: the 11 CoOp datasets, the 4 ImageNet variants, <c>imagefolder</c> (default options), <c>coop_layout</c>, <c>features</c> (precomputed features) and the synthetic world's three tasks.</summary>
    public static IReadOnlyList<IDatasetReader> All => Readers;

    public static IReadOnlyList<string> Names => Readers.Select(r => r.Name).ToArray();

    static IReadOnlyList<IDatasetReader> BuildReaders()
    {
        var list = new List<IDatasetReader>();
        foreach (var info in CoopDatasetInfo.All)
            list.Add(info.Name switch
            {
                "imagenet" => new ImageNetReader(),
                "fgvc_aircraft" => new FgvcAircraftReader(),
                "imagenetv2" or "imagenet_sketch" or "imagenet_a" or "imagenet_r" => new ImageNetVariantReader(info.Name),
                _ => new SplitZhouReader(info),
            });
        list.Add(new ImageFolderReader());
        list.Add(new CoopLayoutReader());
        list.Add(new FeaturesDatasetReader());
        foreach (var task in Synthetic.SyntheticWorld.Tasks) list.Add(new Synthetic.SyntheticTaskReader(task));
        return list;
    }

    static Dictionary<string, IDatasetReader> BuildKeys()
    {
        var keys = new Dictionary<string, IDatasetReader>(StringComparer.Ordinal);
        foreach (var r in Readers) keys[Key(r.Name)] = r;
        foreach (var info in CoopDatasetInfo.All)
        {
            var r = keys[Key(info.Name)];
            keys.TryAdd(Key(info.DasslName), r);
            keys.TryAdd(Key(info.Folder), r);
        }
        keys.TryAdd(Key("Flowers102"), keys[Key("oxford_flowers")]); // DATASETS.md's heading
        return keys;
    }

    static string Key(string name) => new(name.Where(c => c != '_' && c != '-' && !char.IsWhiteSpace(c)).Select(char.ToLowerInvariant).ToArray());

    public static bool TryGet(string name, out IDatasetReader reader) => ByKey.TryGetValue(Key(name ?? ""), out reader!);

    /// <summary>The reader for a name or alias; an unknown name throws <see cref="ArgumentException"/> listing the names.</summary>
    public static IDatasetReader Get(string name) =>
        TryGet(name, out var r) ? r : throw new ArgumentException($"unknown dataset '{name}'; known: {string.Join(", ", Names)}");

    /// <summary>
    /// Guesses the reader from the folder contents, for <c>data check</c> without <c>--dataset</c>:
    /// <c>dataset.json</c> → <c>coop_layout</c>; a CoOp marker file (<c>split_zhou_*.json</c>, <c>variants.txt</c>,
    /// <c>classnames.txt</c> with the dataset's image folder) in the folder, or in its CoOp subfolder, → that dataset;
    /// otherwise class folders with images (directly or under <c>train/</c>) → <c>imagefolder</c>. When the folder is a
    /// <c>$DATA</c> holding several datasets, or nothing matches, throws <see cref="DatasetFormatException"/> saying which
    /// candidates were seen and to pass <c>--dataset</c>.
    /// </summary>
    public static IDatasetReader Detect(string root)
    {
        var found = DetectAll(root);
        return found.Count switch
        {
            1 => found[0],
            0 => throw new DatasetFormatException(Path.GetFullPath(root), "cannot tell which dataset this is: no dataset.json, no CoOp split/class file (split_zhou_*.json, variants.txt, classnames.txt), no class folders with images; pass --dataset NAME"),
            _ => throw new DatasetFormatException(Path.GetFullPath(root), $"several datasets found ({string.Join(", ", found.Select(r => r.Name))}); pass --dataset NAME or the dataset's own folder"),
        };
    }

    /// <summary>Every reader that <see cref="Detect"/> considers a match (the most specific first).</summary>
    public static IReadOnlyList<IDatasetReader> DetectAll(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        string dir = Path.GetFullPath(root);
        if (!Directory.Exists(dir))
            throw new DatasetFormatException(dir, "dataset folder not found");
        if (File.Exists(Path.Combine(dir, CoopLayoutReader.DescriptorFile)))
            return [Get("coop_layout")];

        // The folder itself is a CoOp dataset folder.
        var own = CoopDatasetInfo.All.Where(i => i.IsDatasetDir(dir) || HasSplitFile(i, dir)).ToList();
        if (own.Count > 0)
            return own.Select(i => Get(i.Name)).ToList();

        // A $DATA folder: CoOp subfolders that are dataset folders.
        var sub = CoopDatasetInfo.All.Where(i => Directory.Exists(Path.Combine(dir, i.Folder))
            && (i.IsDatasetDir(Path.Combine(dir, i.Folder)) || HasSplitFile(i, Path.Combine(dir, i.Folder)))).ToList();
        if (sub.Count > 0)
            return sub.Select(i => Get(i.Name)).ToList();

        if (LooksLikeImageFolder(dir))
            return [Get("imagefolder")];
        return [];
    }

    static bool HasSplitFile(CoopDatasetInfo info, string dir) =>
        info.MarkerFile.StartsWith("split_zhou_", StringComparison.Ordinal) && File.Exists(Path.Combine(dir, info.MarkerFile));

    static bool LooksLikeImageFolder(string dir)
    {
        string classBase = ImageFolderReader.HasSplitFolders(dir) ? Path.Combine(dir, "train") : dir;
        return DatasetRules.ListDirectories(classBase)
            .Any(c => Directory.EnumerateFiles(Path.Combine(classBase, c)).Any(ImageFolderReader.IsImageFile));
    }
}
