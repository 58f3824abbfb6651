using Peft.Data.Randomness;
using System.Text;

namespace Peft.Data.Datasets;

/// <summary>Options of <see cref="ImageFolderReader"/>.</summary>
/// <param name="TrainRatio">Share of each class put in train when the folder has no <c>train/</c> subfolder (CoOp's <c>read_and_split_data</c>: 0.5).</param>
/// <param name="ValRatio">Share put in val (CoOp: 0.2); the rest is test (CoOp: 0.3). May be 0 (then val is empty).</param>
/// <param name="Seed">Seed of the per-class shuffle.</param>
/// <param name="Templates">Prompt templates; default <c>a photo of a {}.</c>.</param>
public sealed record ImageFolderOptions(double TrainRatio = 0.5, double ValRatio = 0.2, ulong Seed = 1, IReadOnlyList<string>? Templates = null)
{
    public double TestRatio => 1 - TrainRatio - ValRatio;

    public void Validate()
    {
        if (!(TrainRatio > 0 && TrainRatio <= 1))
            throw new ArgumentException($"train ratio must be in (0, 1], got {TrainRatio}");
        if (!(ValRatio >= 0 && ValRatio < 1))
            throw new ArgumentException($"val ratio must be in [0, 1), got {ValRatio}");
        if (TrainRatio + ValRatio > 1 + 1e-9)
            throw new ArgumentException($"train + val ratios exceed 1 ({TrainRatio} + {ValRatio})");
        if (Templates is { Count: 0 })
            throw new ArgumentException("templates: give at least one");
        if (Templates is not null && Templates.Any(t => !t.Contains("{}", StringComparison.Ordinal)))
            throw new ArgumentException("every template needs a '{}' for the class name");
    }
}

/// <summary>
/// A folder per class (<c>imagefolder</c>), in one of two layouts:
/// <list type="number">
/// <item><b>Split folders</b>: <c>train/&lt;class&gt;/</c>, <c>test/&lt;class&gt;/</c> and optionally <c>val/&lt;class&gt;/</c>. Classes are the
/// folders of <c>train/</c>; a class folder in val/ or test/ that train/ lacks is an error.</item>
/// <item><b>Flat</b>: <c>&lt;class&gt;/</c> folders directly under the root, split per class by the procedure below.</item>
/// </list>
/// Class folders are sorted ordinally (label = position); hidden entries (starting with '.') are skipped; images are the
/// files with an image extension (.jpg .jpeg .png .bmp .gif .webp .tif .tiff .ppm .pgm, any case), sorted ordinally.
/// Class names are the folder names with underscores turned into spaces, or, when the root holds a <c>classnames.txt</c>
/// (<c>&lt;folder&gt; &lt;class name&gt;</c> per line, as ImageNet's), the names given there (every class folder must be
/// listed; extra lines are ignored).
/// <para>
/// <b>Split procedure</b> (flat layout), per class independently: take the class's image names sorted ordinally; shuffle
/// them with Fisher–Yates (for i = n−1 down to 1: j = next() mod (i+1), swap i and j) driven by SplitMix64 seeded with
/// <c>Seed XOR FNV-1a-64(UTF-8 folder name)</c>; then, as CoOp's <c>read_and_split_data</c>, n_train = round(n·TrainRatio),
/// n_val = round(n·ValRatio) (round half to even, like Python's <c>round</c>), n_test = n − n_train − n_val, taking train,
/// val, test in that order from the shuffled list. A class for which any split with a non-zero ratio would get no image is
/// an error naming the class (CoOp asserts the same). The split of a class depends only on the seed, its folder name and
/// its file names, not on the other classes.
/// </para>
/// </summary>
public sealed class ImageFolderReader(ImageFolderOptions? options = null) : IDatasetReader
{
    static readonly HashSet<string> ImageExtensions = new(StringComparer.OrdinalIgnoreCase)
        { ".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm" };

    public ImageFolderOptions Options { get; } = options ?? new ImageFolderOptions();
    public string Name => "imagefolder";
    public string Description => "a folder per class: <root>/{train,val,test}/<class>/ or <root>/<class>/ (seeded per-class split, default 50/20/30)";

    public static bool IsImageFile(string name) => ImageExtensions.Contains(Path.GetExtension(name)) && !Path.GetFileName(name).StartsWith('.');

    /// <summary>Whether the folder uses the split-folder layout (has <c>train/</c> and <c>test/</c>).</summary>
    public static bool HasSplitFolders(string dir) =>
        Directory.Exists(Path.Combine(dir, "train")) && Directory.Exists(Path.Combine(dir, "test"));

    public ImageDataset Read(string root)
    {
        Options.Validate();
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        string dir = Path.GetFullPath(root);
        if (!Directory.Exists(dir))
            throw new DatasetFormatException(dir, "dataset folder not found");
        string namesFile = Path.Combine(dir, "classnames.txt");
        Dictionary<string, string>? names = File.Exists(namesFile)
            ? DatasetRules.ReadClassNamesTxt(namesFile).ToDictionary(e => e.Folder, e => e.Name, StringComparer.Ordinal)
            : null;
        var templates = Options.Templates ?? ["a photo of a {}."];

        bool splitFolders = HasSplitFolders(dir);
        if (!splitFolders && Directory.Exists(Path.Combine(dir, "train")))
            throw new DatasetFormatException(dir, "has train/ but no test/: the split-folder layout needs train/ and test/ (val/ optional)");
        string classBase = splitFolders ? Path.Combine(dir, "train") : dir;
        var folders = DatasetRules.ListDirectories(classBase);
        if (folders.Length == 0)
            throw new DatasetFormatException(classBase, "no class folders");
        var classes = folders.Select(f => names is null ? f
            : names.TryGetValue(f, out var n) ? n : throw new DatasetFormatException(namesFile, $"no class name for folder '{f}'")).ToList();
        var label = folders.Select((f, i) => (f, i)).ToDictionary(x => x.f, x => x.i, StringComparer.Ordinal);

        List<DatasetItem> train = [], val = [], test = [];
        if (splitFolders)
        {
            train = ReadSplitFolder(dir, "train", folders, label, classes);
            if (Directory.Exists(Path.Combine(dir, "val")))
                val = ReadSplitFolder(dir, "val", DatasetRules.ListDirectories(Path.Combine(dir, "val")), label, classes);
            test = ReadSplitFolder(dir, "test", DatasetRules.ListDirectories(Path.Combine(dir, "test")), label, classes);
        }
        else
        {
            for (int y = 0; y < folders.Length; y++)
            {
                var files = ImagesOf(Path.Combine(dir, folders[y]));
                var (tr, va, te) = SplitClass(files, folders[y], Options, Path.Combine(dir, folders[y]));
                train.AddRange(tr.Select(f => new DatasetItem(folders[y] + "/" + f, y, classes[y])));
                val.AddRange(va.Select(f => new DatasetItem(folders[y] + "/" + f, y, classes[y])));
                test.AddRange(te.Select(f => new DatasetItem(folders[y] + "/" + f, y, classes[y])));
            }
        }
        return DatasetRules.Build(Name, dir, dir, classBase, classes, templates, train, val, test);
    }

    static List<DatasetItem> ReadSplitFolder(string dir, string split, IReadOnlyList<string> folders, Dictionary<string, int> label, List<string> classes)
    {
        var items = new List<DatasetItem>();
        foreach (var f in folders)
        {
            if (!label.TryGetValue(f, out int y))
                throw new DatasetFormatException(Path.Combine(dir, split, f), $"class folder '{f}' of {split}/ has no folder in train/");
            items.AddRange(ImagesOf(Path.Combine(dir, split, f)).Select(n => new DatasetItem($"{split}/{f}/{n}", y, classes[y])));
        }
        items.Sort((a, b) => a.Label != b.Label ? a.Label.CompareTo(b.Label) : string.CompareOrdinal(a.ImagePath, b.ImagePath));
        return items;
    }

    static string[] ImagesOf(string classDir) => DatasetRules.ListFiles(classDir).Where(IsImageFile).ToArray();

    /// <summary>The documented per-class split (see the class remarks); returns file names for train, val, test.</summary>
    public static (string[] Train, string[] Val, string[] Test) SplitClass(IReadOnlyList<string> files, string folder, ImageFolderOptions options, string? whereForErrors = null)
    {
        var order = files.Order(StringComparer.Ordinal).ToArray();
        var rng = new SplitMix64(options.Seed ^ Fnv1a64(folder));
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = (int)(rng.NextUInt64() % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        int n = order.Length;
        int nTrain = (int)Math.Round(n * options.TrainRatio, MidpointRounding.ToEven);
        int nVal = (int)Math.Round(n * options.ValRatio, MidpointRounding.ToEven);
        int nTest = n - nTrain - nVal;
        bool needTest = options.TestRatio > 1e-9;
        if (nTrain <= 0 || (options.ValRatio > 0 && nVal <= 0) || (needTest && nTest <= 0) || nTest < 0)
            throw new DatasetFormatException(whereForErrors ?? folder,
                $"class '{folder}' has {n} image{(n == 1 ? "" : "s")}: a {options.TrainRatio:0.##}/{options.ValRatio:0.##}/{options.TestRatio:0.##} split gives "
                + $"{nTrain}/{nVal}/{nTest}; every split needs at least one image (add images or change the ratios)");
        return (order[..nTrain], order[nTrain..(nTrain + nVal)], order[(nTrain + nVal)..]);
    }

    internal static ulong Fnv1a64(string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(s))
        {
            h ^= b;
            h *= 1099511628211UL;
        }
        return h;
    }
}
