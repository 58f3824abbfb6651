using Peft.Data.Randomness;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Peft.Data.Synthetic;

/// <summary>A downstream classification task of the synthetic world.</summary>
/// <param name="Name">Folder and dataset name (<c>synth_shapes</c>, ...).</param>
/// <param name="ClassNames">Class names in label order; each is a phrase the pretraining captions use.</param>
/// <param name="Description">What the task measures.</param>
public sealed record SyntheticTask(string Name, IReadOnlyList<string> ClassNames, string Description)
{
    internal Func<SplitMix64, int, int, Scene> SampleScene { get; init; } = null!; // (rng, class, image size)
    internal int StreamBase { get; init; }
}

/// <summary>What one <see cref="SyntheticWorld.Generate"/> call wrote.</summary>
public sealed record SyntheticWorldResult(string OutDir, string ManifestPath, int PretrainImages, int TaskImages, long Bytes, TimeSpan Elapsed);

/// <summary>
/// The synthetic world: a deterministic generator of small RGB images of coloured shapes with compositional captions
/// (for contrastive pretraining of a tiny CLIP) and three downstream classification tasks in CoOp's dataset layout.
/// See <c>src/Peft.Data/Synthetic/README.md</c> for the design.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>synth_shapes</c>: the ten shape names, drawn exactly like pretraining images — zero-shot should be easy.</item>
/// <item><c>synth_fine</c>: shade × shape (crimson/scarlet, navy/azure, lime/olive × circle/pentagon). Captions name a
/// shade only 30% of the time (its basic colour otherwise) and neighbouring shades are close in colour, so zero-shot
/// is possible but weak and labelled examples help.</item>
/// <item><c>synth_shift</c>: the ten shapes as pencil outlines on paper, a style pretraining never shows.</item>
/// </list>
/// Each image has its own <see cref="SplitMix64"/> derived from (seed, stream, index), so output does not depend on
/// thread scheduling, and changing one count (say, train images per class) leaves every other image unchanged.
/// </remarks>
public static class SyntheticWorld
{
    /// <summary>Bumped whenever the same options would give different bytes.</summary>
    public const int GeneratorVersion = 1;

    public const string ManifestFileName = "synth.json";
    public const string PretrainFolder = "pretrain";
    public const string CaptionsFileName = "captions.jsonl";

    /// <summary>The zero-shot prompt template written into every task's <c>dataset.json</c>.</summary>
    public const string PromptTemplate = "a photo of a {}.";

    const ulong PretrainStream = 1;
    static readonly string[] SplitNames = ["train", "val", "test"];

    static readonly Shape[] FineShapes = [Shape.Circle, Shape.Pentagon];
    static readonly string[] FineShades = ["crimson", "scarlet", "navy", "azure", "lime", "olive"];

    /// <summary>The downstream tasks, in the order they are written.</summary>
    public static IReadOnlyList<SyntheticTask> Tasks { get; } =
    [
        new("synth_shapes", Enum.GetValues<Shape>().Select(Geometry.Name).ToArray(),
            "Which shape? Ten shapes drawn in the pretraining style (random colour, size, place, background).")
        {
            StreamBase = 1000,
            SampleScene = (rng, label, size) => SceneSampler.Filled(rng, size, 0, shape: (Shape)label),
        },
        new("synth_fine", FineShapes.SelectMany(s => FineShades.Select(c => $"{c} {Geometry.Name(s)}")).ToArray(),
            "Which shade and shape? Six near shades (pairs within red, blue, green) × circle/pentagon, medium or large, pretraining style.")
        {
            StreamBase = 2000,
            SampleScene = (rng, label, size) => SceneSampler.Filled(rng, size, 0,
                shape: FineShapes[label / FineShades.Length], color: Palette.Get(FineShades[label % FineShades.Length]),
                sizes: [SizeClass.Medium, SizeClass.Large]),
        },
        new("synth_shift", Enum.GetValues<Shape>().Select(Geometry.Name).ToArray(),
            "Which shape? The ten shapes as grey pencil outlines on paper: a style absent from pretraining.")
        {
            StreamBase = 3000,
            SampleScene = (rng, label, size) => SceneSampler.Sketch(rng, size, (Shape)label),
        },
    ];

    /// <summary>Every word a pretraining caption can contain.</summary>
    public static IReadOnlyList<string> Vocabulary => Captioner.Vocabulary;

    /// <summary>The scene, caption and PNG bytes of pretraining image <paramref name="index"/> (what Generate writes).</summary>
    public static (Scene Scene, string Caption, byte[] Png) RenderPretrain(SyntheticWorldOptions options, int index)
    {
        var (scene, caption, rng) = SamplePretrain(options, index);
        return (scene, caption, Png(scene, options.ImageSize, rng));
    }

    /// <summary>The scene and caption of pretraining image <paramref name="index"/>, without drawing it (cheap).</summary>
    public static (Scene Scene, string Caption) PretrainCaption(SyntheticWorldOptions options, int index)
    {
        var (scene, caption, _) = SamplePretrain(options, index);
        return (scene, caption);
    }

    static (Scene, string, SplitMix64) SamplePretrain(SyntheticWorldOptions options, int index)
    {
        var rng = SplitMix64.For((ulong)options.Seed, PretrainStream, (ulong)index);
        var scene = SceneSampler.Filled(rng, options.ImageSize, options.TwoObjectFraction);
        string caption = Captioner.Caption(scene, rng, options.ShadeNameProbability);
        return (scene, caption, rng);
    }

    /// <summary>The scene and PNG bytes of image <paramref name="index"/> of class <paramref name="label"/> in a task split.</summary>
    public static (Scene Scene, byte[] Png) RenderTaskImage(SyntheticWorldOptions options, SyntheticTask task, string split, int label, int index)
    {
        int s = Array.IndexOf(SplitNames, split);
        if (s < 0) throw new ArgumentException($"unknown split \"{split}\" (train, val, test)");
        var rng = SplitMix64.For((ulong)options.Seed, (ulong)(task.StreamBase + s), (ulong)label * 1_000_000UL + (ulong)index);
        var scene = task.SampleScene(rng, label, options.ImageSize);
        return (scene, Png(scene, options.ImageSize, rng));
    }

    static byte[] Png(Scene scene, int size, SplitMix64 rng) => PngWriter.Encode(Renderer.Render(scene, size, rng), size, size);

    /// <summary>
    /// Writes the world under <paramref name="outDir"/>: <c>pretrain/images/*.png</c> + <c>pretrain/captions.jsonl</c>,
    /// one CoOp-layout folder per task (<c>dataset.json</c>, <c>split.json</c>, <c>images/</c>), and <c>synth.json</c>.
    /// The folder must be empty, absent, or an earlier output (which is replaced).
    /// </summary>
    /// <param name="progress">Told (images done, images in all) as rendering goes, from one thread at a time.</param>
    public static SyntheticWorldResult Generate(string outDir, SyntheticWorldOptions options, CancellationToken cancel = default,
        Action<int, int>? progress = null)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        outDir = Path.GetFullPath(outDir);
        PrepareOutputFolder(outDir);

        // Every image is a job; its index fixes its generator, so the order of execution does not matter.
        var jobs = new List<Job>();
        for (int i = 0; i < options.PretrainCount; i++)
            jobs.Add(new Job($"{PretrainFolder}/images/{i:D6}.png", null, 0, 0, i));
        foreach (var task in Tasks)
            for (int s = 0; s < SplitNames.Length; s++)
            {
                int perClass = s switch { 0 => options.TrainPerClass, 1 => options.ValPerClass, _ => options.TestPerClass };
                for (int label = 0; label < task.ClassNames.Count; label++)
                    for (int i = 0; i < perClass; i++)
                        jobs.Add(new Job($"{task.Name}/images/{SplitNames[s]}/{Folder(task.ClassNames[label])}/{i:D4}.png", task, s, label, i));
            }
        foreach (var dir in jobs.Select(j => Path.GetDirectoryName(j.Path)!).Distinct())
            Directory.CreateDirectory(Path.Combine(outDir, dir));

        var hashes = new string[jobs.Count];
        var captions = new string[options.PretrainCount];
        var scenes = new Scene[options.PretrainCount];
        long bytes = 0;
        int rendered = 0;
        var progressGate = new object();
        Parallel.For(0, jobs.Count, new ParallelOptions { MaxDegreeOfParallelism = options.Threads ?? Environment.ProcessorCount, CancellationToken = cancel }, k =>
        {
            var job = jobs[k];
            byte[] png;
            if (job.Task is null)
            {
                var (scene, caption, p) = RenderPretrain(options, job.Index);
                captions[job.Index] = caption;
                scenes[job.Index] = scene;
                png = p;
            }
            else
            {
                png = RenderTaskImage(options, job.Task, SplitNames[job.Split], job.Label, job.Index).Png;
            }
            File.WriteAllBytes(Path.Combine(outDir, job.Path), png);
            hashes[k] = Convert.ToHexStringLower(SHA256.HashData(png));
            Interlocked.Add(ref bytes, png.Length);
            int done = Interlocked.Increment(ref rendered);
            if (progress is not null && (done % 100 == 0 || done == jobs.Count))
                lock (progressGate) progress(done, jobs.Count);
        });

        // Pretraining captions, one JSON object per line, in image order.
        var jsonl = new StringBuilder();
        for (int i = 0; i < options.PretrainCount; i++)
            jsonl.Append(CaptionLine($"images/{i:D6}.png", captions[i], scenes[i])).Append('\n');
        string captionsPath = Path.Combine(outDir, PretrainFolder, CaptionsFileName);
        Directory.CreateDirectory(Path.GetDirectoryName(captionsPath)!);
        File.WriteAllText(captionsPath, jsonl.ToString(), new UTF8Encoding(false));

        var taskEntries = new List<object>();
        int taskImages = 0;
        foreach (var task in Tasks)
        {
            var indices = Enumerable.Range(0, jobs.Count).Where(k => ReferenceEquals(jobs[k].Task, task)).ToList();
            taskImages += indices.Count;
            string taskDir = Path.Combine(outDir, task.Name);
            var split = new Dictionary<string, object>();
            for (int s = 0; s < SplitNames.Length; s++)
                split[SplitNames[s]] = indices.Where(k => jobs[k].Split == s).Select(k => new object[]
                    { jobs[k].Path[$"{task.Name}/images/".Length..], jobs[k].Label, task.ClassNames[jobs[k].Label] }).ToList();
            byte[] splitBytes = JsonSerializer.SerializeToUtf8Bytes(split);
            File.WriteAllBytes(Path.Combine(taskDir, "split.json"), splitBytes);
            var dataset = new Dictionary<string, object>
            {
                ["name"] = task.Name,
                ["description"] = task.Description,
                ["classnames"] = task.ClassNames,
                ["templates"] = new[] { PromptTemplate },
                ["image_dir"] = "images",
                ["split_file"] = "split.json",
            };
            byte[] datasetBytes = JsonSerializer.SerializeToUtf8Bytes(dataset, Indented);
            File.WriteAllBytes(Path.Combine(taskDir, "dataset.json"), datasetBytes);
            taskEntries.Add(new Dictionary<string, object>
            {
                ["name"] = task.Name,
                ["dataset"] = $"{task.Name}/dataset.json",
                ["classes"] = task.ClassNames.Count,
                ["train"] = options.TrainPerClass * task.ClassNames.Count,
                ["val"] = options.ValPerClass * task.ClassNames.Count,
                ["test"] = options.TestPerClass * task.ClassNames.Count,
                ["dataset_sha256"] = Sha256(datasetBytes),
                ["split_sha256"] = Sha256(splitBytes),
                ["images_sha256"] = ListHash(jobs, hashes, indices),
            });
        }

        var manifest = new Dictionary<string, object>
        {
            ["generator"] = "Peft.Data.Synthetic",
            ["generator_version"] = GeneratorVersion,
            ["seed"] = options.Seed,
            ["image_size"] = options.ImageSize,
            ["pretrain_count"] = options.PretrainCount,
            ["train_per_class"] = options.TrainPerClass,
            ["val_per_class"] = options.ValPerClass,
            ["test_per_class"] = options.TestPerClass,
            ["two_object_fraction"] = options.TwoObjectFraction,
            ["shade_name_probability"] = options.ShadeNameProbability,
            ["pretrain"] = new Dictionary<string, object>
            {
                ["captions"] = $"{PretrainFolder}/{CaptionsFileName}",
                ["images"] = options.PretrainCount,
                ["captions_sha256"] = Sha256(File.ReadAllBytes(captionsPath)),
                ["images_sha256"] = ListHash(jobs, hashes, Enumerable.Range(0, options.PretrainCount).ToList()),
            },
            ["tasks"] = taskEntries,
        };
        string manifestPath = Path.Combine(outDir, ManifestFileName);
        File.WriteAllBytes(manifestPath, JsonSerializer.SerializeToUtf8Bytes(manifest, Indented));
        return new SyntheticWorldResult(outDir, manifestPath, options.PretrainCount, taskImages, bytes, clock.Elapsed);
    }

    /// <summary>
    /// Checks a generated folder against its manifest: each task's <c>dataset.json</c> and <c>split.json</c> and the
    /// captions file hash as recorded (and, with <paramref name="images"/>, every pretraining and task image). Returns the
    /// problems found, one line each; an empty list means the folder is what the manifest describes.
    /// </summary>
    public static IReadOnlyList<string> Verify(string outDir, bool images = false)
    {
        var problems = new List<string>();
        string manifestPath = Path.Combine(outDir, ManifestFileName);
        if (!File.Exists(manifestPath)) return [$"{manifestPath}: missing"];
        using var doc = JsonDocument.Parse(File.ReadAllBytes(manifestPath));
        var root = doc.RootElement;
        void Check(string relative, string expected)
        {
            string path = Path.Combine(outDir, relative);
            if (!File.Exists(path)) problems.Add($"{path}: missing");
            else if (Sha256(File.ReadAllBytes(path)) != expected) problems.Add($"{path}: SHA-256 differs from {ManifestFileName}");
        }
        var pre = root.GetProperty("pretrain");
        Check(pre.GetProperty("captions").GetString()!, pre.GetProperty("captions_sha256").GetString()!);
        if (images)
        {
            var lines = new StringBuilder();
            int count = pre.GetProperty("images").GetInt32();
            for (int i = 0; i < count; i++)
            {
                string rel = $"{PretrainFolder}/images/{i:D6}.png", file = Path.Combine(outDir, rel);
                lines.Append(rel).Append('\t').Append(File.Exists(file) ? Sha256(File.ReadAllBytes(file)) : "missing").Append('\n');
            }
            if (Sha256(Encoding.UTF8.GetBytes(lines.ToString())) != pre.GetProperty("images_sha256").GetString())
                problems.Add($"{Path.Combine(outDir, PretrainFolder)}: images differ from {ManifestFileName}");
        }
        foreach (var t in root.GetProperty("tasks").EnumerateArray())
        {
            string name = t.GetProperty("name").GetString()!;
            Check($"{name}/dataset.json", t.GetProperty("dataset_sha256").GetString()!);
            Check($"{name}/split.json", t.GetProperty("split_sha256").GetString()!);
            if (!images || problems.Count > 0) continue;
            using var split = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(outDir, name, "split.json")));
            var lines = new StringBuilder();
            foreach (var s in SplitNames)
                foreach (var item in split.RootElement.GetProperty(s).EnumerateArray())
                {
                    string rel = $"{name}/images/{item[0].GetString()}";
                    string file = Path.Combine(outDir, rel);
                    string hash = File.Exists(file) ? Sha256(File.ReadAllBytes(file)) : "missing";
                    lines.Append(rel).Append('\t').Append(hash).Append('\n');
                }
            if (Sha256(Encoding.UTF8.GetBytes(lines.ToString())) != t.GetProperty("images_sha256").GetString())
                problems.Add($"{Path.Combine(outDir, name)}: images differ from {ManifestFileName}");
        }
        return problems;
    }

    sealed record Job(string Path, SyntheticTask? Task, int Split, int Label, int Index);

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    static string Folder(string className) => className.Replace(' ', '_');

    static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>SHA-256 of the lines "relative path TAB file SHA-256" of the given jobs, in order.</summary>
    static string ListHash(List<Job> jobs, string[] hashes, List<int> indices)
    {
        var sb = new StringBuilder();
        foreach (int k in indices) sb.Append(jobs[k].Path).Append('\t').Append(hashes[k]).Append('\n');
        return Sha256(Encoding.UTF8.GetBytes(sb.ToString()));
    }

    static string CaptionLine(string image, string caption, Scene scene)
    {
        var objects = scene.Objects.Select(o => new Dictionary<string, string>
        {
            ["shape"] = Geometry.Name(o.Shape),
            ["color"] = o.Color.Name,
            ["size"] = Captioner.SizeWord(o.Size),
            ["position"] = PlacementName(o.Placement),
        }).ToList();
        var line = new Dictionary<string, object?>
        {
            ["image"] = image,
            ["caption"] = caption,
            ["objects"] = objects,
            ["relation"] = scene.Relation is { } r ? RelationName(r) : null,
            ["background"] = Captioner.BackgroundWord(scene.Background.Kind),
        };
        return JsonSerializer.Serialize(line);
    }

    static string PlacementName(Placement p) => p switch
    {
        Placement.TopLeft => "top left", Placement.Top => "top", Placement.TopRight => "top right",
        Placement.Left => "left", Placement.Center => "center", Placement.Right => "right",
        Placement.BottomLeft => "bottom left", Placement.Bottom => "bottom", _ => "bottom right",
    };

    static string RelationName(Relation r) => r switch
    {
        Relation.LeftOf => "left of", Relation.RightOf => "right of", Relation.Above => "above", _ => "below",
    };

    /// <summary>An empty or absent folder is used as is; an earlier output has its generated parts removed first.</summary>
    static void PrepareOutputFolder(string outDir)
    {
        if (File.Exists(outDir)) throw new IOException($"{outDir} is a file, expected a folder");
        if (!Directory.Exists(outDir) || !Directory.EnumerateFileSystemEntries(outDir).Any())
        {
            Directory.CreateDirectory(outDir);
            return;
        }
        if (!File.Exists(Path.Combine(outDir, ManifestFileName)))
            throw new IOException($"{outDir} is not empty and holds no {ManifestFileName}: refusing to write into it");
        foreach (var name in Tasks.Select(t => t.Name).Append(PretrainFolder))
        {
            string dir = Path.Combine(outDir, name);
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        File.Delete(Path.Combine(outDir, ManifestFileName));
    }
}
