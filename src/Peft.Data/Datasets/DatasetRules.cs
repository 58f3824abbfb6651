namespace Peft.Data.Datasets;

/// <summary>
/// Checks shared by every reader: safe relative paths, labels against the class list, one class name per label,
/// no duplicate entries within a split, no class without training items. Every error names the file (and entry).
/// </summary>
internal static class DatasetRules
{
    /// <summary>CoOp turns underscores into spaces when it builds prompts (<c>name.replace("_", " ")</c> in coop.py / zsclip.py).</summary>
    public static string DisplayName(string className) => className.Replace('_', ' ');

    /// <summary>
    /// A path relative to the image root, normalised to '/' separators with empty and "." segments dropped.
    /// Refuses empty paths, absolute paths (rooted, drive letters, leading separators) and any ".." segment,
    /// so no split file can point outside the dataset's image folder.
    /// </summary>
    public static string SafeRelativePath(string file, string where, string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new DatasetFormatException(file, $"{where}: empty image path");
        string p = path.Replace('\\', '/');
        if (p.StartsWith('/') || Path.IsPathRooted(path) || (p.Length >= 2 && p[1] == ':' && char.IsAsciiLetter(p[0])))
            throw new DatasetFormatException(file, $"{where}: image path '{path}' is absolute; paths must be relative to the image folder");
        var parts = p.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != ".").ToArray();
        if (parts.Contains(".."))
            throw new DatasetFormatException(file, $"{where}: image path '{path}' contains '..' and would leave the image folder");
        if (parts.Length == 0)
            throw new DatasetFormatException(file, $"{where}: empty image path");
        if (p.IndexOf('\0') >= 0)
            throw new DatasetFormatException(file, $"{where}: image path contains a NUL character");
        return string.Join('/', parts);
    }

    /// <summary>
    /// Validates the three splits and builds the dataset. With <paramref name="declaredClasses"/> (a class list read
    /// from its own file) every label must index it and every item's class name must equal the declared one. Without it
    /// the classes come from the items as CoOp's <c>DatasetBase.get_lab2cname</c> does: labels 0 .. max(train label),
    /// one name per label; here a label named differently by two items is an error instead of an arbitrary pick.
    /// Unless the dataset is test-only (no train and no val items) every class must have a training item.
    /// </summary>
    public static ImageDataset Build(string name, string root, string imageRoot, string source,
        IReadOnlyList<string>? declaredClasses, IReadOnlyList<string> templates,
        IReadOnlyList<DatasetItem> train, IReadOnlyList<DatasetItem> val, IReadOnlyList<DatasetItem> test,
        bool valIsTest = false)
    {
        var splits = valIsTest
            ? new[] { ("train", train), ("test", test) }
            : new[] { ("train", train), ("val", val), ("test", test) };
        foreach (var (split, items) in splits)
            for (int i = 0; i < items.Count; i++)
                if (items[i].Label < 0)
                    throw new DatasetFormatException(source, $"{split}[{i}]: negative label {items[i].Label}");

        string[] names;
        if (declaredClasses is not null)
        {
            int c = declaredClasses.Count;
            foreach (var (split, items) in splits)
                for (int i = 0; i < items.Count; i++)
                {
                    var it = items[i];
                    if (it.Label >= c)
                        throw new DatasetFormatException(source, $"{split}[{i}] ({it.ImagePath}): label {it.Label} is outside the {c} classes of the class list");
                    if (!string.Equals(it.ClassName, declaredClasses[it.Label], StringComparison.Ordinal))
                        throw new DatasetFormatException(source, $"{split}[{i}] ({it.ImagePath}): class name '{it.ClassName}' disagrees with '{declaredClasses[it.Label]}', the class list's name for label {it.Label}");
                }
            names = [.. declaredClasses];
        }
        else
        {
            // CoOp: num_classes = max(train label) + 1 and lab2cname from the train items; test-only sets use their test items.
            var basis = train.Count > 0 ? train : test;
            if (basis.Count == 0)
                throw new DatasetFormatException(source, "no items in any split");
            int c = basis.Max(x => x.Label) + 1;
            var seen = new (string name, string where)?[c];
            foreach (var (split, items) in splits)
                for (int i = 0; i < items.Count; i++)
                {
                    var it = items[i];
                    if (it.Label >= c)
                        throw new DatasetFormatException(source, $"{split}[{i}] ({it.ImagePath}): label {it.Label} is outside the {c} classes found in {(ReferenceEquals(basis, train) ? "train" : "test")} (labels 0..{c - 1})");
                    var prev = seen[it.Label];
                    if (prev is null)
                        seen[it.Label] = (it.ClassName, $"{split}[{i}]");
                    else if (!string.Equals(prev.Value.name, it.ClassName, StringComparison.Ordinal))
                        throw new DatasetFormatException(source, $"{split}[{i}] ({it.ImagePath}): label {it.Label} is named '{it.ClassName}' but '{prev.Value.name}' at {prev.Value.where}");
                }
            var missing = Enumerable.Range(0, c).Where(l => seen[l] is null).ToList();
            if (missing.Count > 0)
                throw new DatasetFormatException(source, $"label{(missing.Count > 1 ? "s" : "")} {Preview(missing)} below the largest label {c - 1} {(missing.Count > 1 ? "have" : "has")} no items at all (labels must be 0..{c - 1} without gaps)");
            names = seen.Select(s => s!.Value.name).ToArray();
        }

        if (train.Count > 0 || val.Count > 0)
        {
            var counts = new int[names.Length];
            foreach (var it in train) counts[it.Label]++;
            var empty = Enumerable.Range(0, names.Length).Where(l => counts[l] == 0).ToList();
            if (empty.Count > 0)
                throw new DatasetFormatException(source, $"{empty.Count} class{(empty.Count > 1 ? "es have" : " has")} no training items: "
                    + string.Join(", ", empty.Take(10).Select(l => $"{l} '{names[l]}'")) + (empty.Count > 10 ? ", ..." : ""));
        }

        foreach (var (split, items) in splits)
        {
            var first = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < items.Count; i++)
                if (!first.TryAdd(items[i].ImagePath, i))
                    throw new DatasetFormatException(source, $"{split}[{i}]: duplicate entry '{items[i].ImagePath}' (already {split}[{first[items[i].ImagePath]}])");
        }

        return new ImageDataset
        {
            Name = name,
            Root = root,
            ImageRoot = imageRoot,
            ClassNames = names.Select(DisplayName).ToArray(),
            Templates = templates,
            Train = train,
            Val = valIsTest ? test : val,
            Test = test,
        };
    }

    static string Preview(List<int> labels) => string.Join(", ", labels.Take(10)) + (labels.Count > 10 ? ", ..." : "");

    /// <summary>
    /// CoOp's <c>dataset_dir = join(root, subfolder)</c>, accepting both forms: when <paramref name="root"/> itself looks like
    /// the dataset folder it is used; otherwise its <paramref name="subfolder"/> if that exists; otherwise the root (and the
    /// reader then reports what is missing there).
    /// </summary>
    public static string ResolveDatasetDir(string root, string subfolder, Func<string, bool> looksLikeDatasetDir)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        string full = Path.GetFullPath(root);
        if (!Directory.Exists(full))
            throw new DatasetFormatException(full, "dataset folder not found");
        if (looksLikeDatasetDir(full)) return full;
        string sub = Path.Combine(full, subfolder);
        return Directory.Exists(sub) ? sub : full;
    }

    /// <summary>Dassl's <c>listdir_nohidden</c>: names not starting with '.', here sorted ordinally (Python's string sort).</summary>
    public static string[] ListDirectories(string dir) =>
        Directory.EnumerateDirectories(dir).Select(Path.GetFileName).Where(n => !n!.StartsWith('.')).Order(StringComparer.Ordinal).ToArray()!;

    /// <summary>Non-hidden files of a folder, sorted ordinally (CoOp keeps <c>os.listdir</c> order, which is filesystem-dependent).</summary>
    public static string[] ListFiles(string dir) =>
        Directory.EnumerateFiles(dir).Select(Path.GetFileName).Where(n => !n!.StartsWith('.')).Order(StringComparer.Ordinal).ToArray()!;

    public static string[] ReadLines(string file)
    {
        if (!File.Exists(file))
            throw new DatasetFormatException(file, "file not found");
        try
        {
            return File.ReadAllLines(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetFormatException(file, $"cannot read: {e.Message}", e);
        }
    }

    /// <summary>
    /// ImageNet's <c>classnames.txt</c> (CoOp <c>ImageNet.read_classnames</c>): per line <c>&lt;folder&gt; &lt;class name&gt;</c>,
    /// the line stripped, split at the first space. Blank lines are skipped; a folder listed twice is an error.
    /// Returns the entries in file order.
    /// </summary>
    public static List<(string Folder, string Name)> ReadClassNamesTxt(string file)
    {
        var result = new List<(string, string)>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var lines = ReadLines(file);
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0) continue;
            int sp = line.IndexOf(' ');
            if (sp <= 0)
                throw new DatasetFormatException(file, $"line {i + 1}: expected '<folder> <class name>', got '{line}'");
            string folder = line[..sp], name = line[(sp + 1)..];
            if (!seen.TryAdd(folder, i + 1))
                throw new DatasetFormatException(file, $"line {i + 1}: folder '{folder}' is already listed on line {seen[folder]}");
            result.Add((folder, name));
        }
        if (result.Count == 0)
            throw new DatasetFormatException(file, "no class names");
        return result;
    }
}
