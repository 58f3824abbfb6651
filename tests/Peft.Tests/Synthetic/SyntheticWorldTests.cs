using System.Security.Cryptography;
using System.Text.Json;
using Peft.Imaging;
using Peft.Clip.Text;
using Peft.Data.Synthetic;
using Xunit.Abstractions;

namespace Peft.Tests.Synthetic;

public class SyntheticWorldTests(SyntheticWorldFixture world, ITestOutputHelper output) : IClassFixture<SyntheticWorldFixture>
{
    static readonly SyntheticWorldOptions Options = SyntheticWorldFixture.Options;

    /// <summary>Relative path → SHA-256 of every file under a folder.</summary>
    static SortedDictionary<string, string> Hashes(string dir) => new(
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(
            f => Path.GetRelativePath(dir, f).Replace('\\', '/'), f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f)))),
        StringComparer.Ordinal);

    [Fact]
    public void Reports_generation_time()
    {
        int images = world.Result.PretrainImages + world.Result.TaskImages;
        output.WriteLine($"{images} images ({world.Result.PretrainImages} pretraining + {world.Result.TaskImages} task) at " +
                         $"{Options.ImageSize} px: {world.Elapsed.TotalSeconds:F2} s, {world.Result.Bytes / 1e6:F2} MB, " +
                         $"{world.Elapsed.TotalMilliseconds / images:F2} ms per image on {Environment.ProcessorCount} processors");
        Assert.Equal(Options.PretrainCount, world.Result.PretrainImages);
        int classes = SyntheticWorld.Tasks.Sum(t => t.ClassNames.Count);
        Assert.Equal(classes * (Options.TrainPerClass + Options.ValPerClass + Options.TestPerClass), world.Result.TaskImages);
        Assert.Equal(images, Directory.EnumerateFiles(world.World, "*.png", SearchOption.AllDirectories).Count());
    }

    [Fact]
    public void Same_seed_gives_identical_files_whatever_the_thread_count()
    {
        using var temp = new Scratch();
        var again = SyntheticWorld.Generate(temp.Path, Options with { Threads = 1 });
        var expected = Hashes(world.World);
        var actual = Hashes(again.OutDir);
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (file, hash) in expected) Assert.True(hash == actual[file], $"{file} differs between two runs with seed {Options.Seed}");
    }

    [Fact]
    public void Different_seed_gives_different_images_and_captions()
    {
        using var temp = new Scratch();
        var other = SyntheticWorld.Generate(temp.Path, Options with { Seed = Options.Seed + 1 });
        var a = Hashes(world.World);
        var b = Hashes(other.OutDir);
        Assert.Equal(a.Keys, b.Keys); // same layout
        var pngs = a.Keys.Where(k => k.EndsWith(".png", StringComparison.Ordinal)).ToList();
        int same = pngs.Count(k => a[k] == b[k]);
        Assert.True(same == 0, $"{same} of {pngs.Count} images identical across seeds");
        Assert.NotEqual(a["pretrain/captions.jsonl"], b["pretrain/captions.jsonl"]);
        foreach (var task in SyntheticWorld.Tasks)
            Assert.NotEqual(a[$"{task.Name}/split.json"] + a[$"{task.Name}/images/test/{task.ClassNames[0].Replace(' ', '_')}/0000.png"],
                            b[$"{task.Name}/split.json"] + b[$"{task.Name}/images/test/{task.ClassNames[0].Replace(' ', '_')}/0000.png"]);
    }

    [Fact]
    public void Changing_one_count_leaves_the_other_images_unchanged()
    {
        using var temp = new Scratch();
        var other = SyntheticWorld.Generate(temp.Path, Options with { TrainPerClass = 4, PretrainCount = 50 });
        var a = Hashes(world.World);
        var b = Hashes(other.OutDir);
        var shared = b.Keys.Where(k => k.EndsWith(".png", StringComparison.Ordinal)).ToList();
        Assert.Equal(50 + SyntheticWorld.Tasks.Sum(t => t.ClassNames.Count * (4 + Options.ValPerClass + Options.TestPerClass)), shared.Count);
        foreach (var k in shared) Assert.True(a[k] == b[k], $"{k} changed when only the counts changed");
    }

    [Fact]
    public void Tasks_are_valid_coop_layout_datasets()
    {
        foreach (var task in SyntheticWorld.Tasks)
        {
            string dir = Path.Combine(world.World, task.Name);
            using var dataset = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "dataset.json")));
            var d = dataset.RootElement;
            Assert.Equal(task.Name, d.GetProperty("name").GetString());
            var classnames = d.GetProperty("classnames").EnumerateArray().Select(e => e.GetString()!).ToList();
            Assert.Equal(task.ClassNames, classnames);
            Assert.Equal(classnames.Count, classnames.Distinct().Count());
            Assert.Equal(["a photo of a {}."], d.GetProperty("templates").EnumerateArray().Select(e => e.GetString()!));
            string imageDir = Path.Combine(dir, d.GetProperty("image_dir").GetString()!);
            string splitFile = Path.Combine(dir, d.GetProperty("split_file").GetString()!);

            using var split = JsonDocument.Parse(File.ReadAllBytes(splitFile));
            Assert.Equal(["train", "val", "test"], split.RootElement.EnumerateObject().Select(p => p.Name));
            var seen = new Dictionary<string, string>(); // image path or content hash → split
            foreach (var (name, perClass) in new[] { ("train", Options.TrainPerClass), ("val", Options.ValPerClass), ("test", Options.TestPerClass) })
            {
                var counts = new int[classnames.Count];
                foreach (var item in split.RootElement.GetProperty(name).EnumerateArray())
                {
                    Assert.Equal(3, item.GetArrayLength());
                    string path = item[0].GetString()!;
                    int label = item[1].GetInt32();
                    Assert.InRange(label, 0, classnames.Count - 1);
                    Assert.Equal(classnames[label], item[2].GetString());
                    Assert.False(Path.IsPathRooted(path), path);
                    string file = Path.Combine(imageDir, path);
                    Assert.True(File.Exists(file), $"{task.Name}: {path} listed in {name} but missing");
                    Assert.True(seen.TryAdd(path, name), $"{task.Name}: {path} in both {seen.GetValueOrDefault(path)} and {name}");
                    string hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));
                    Assert.True(seen.TryAdd(hash, name), $"{task.Name}: {path} ({name}) has the same pixels as an image in {seen.GetValueOrDefault(hash)}");
                    counts[label]++;
                }
                Assert.All(counts, c => Assert.Equal(perClass, c));
            }
            // Every image in the folder is listed.
            Assert.Equal(seen.Count / 2, Directory.EnumerateFiles(imageDir, "*.png", SearchOption.AllDirectories).Count());
        }
    }

    [Fact]
    public void Images_have_the_configured_size()
    {
        var files = Directory.EnumerateFiles(world.World, "*.png", SearchOption.AllDirectories).ToList();
        foreach (var file in files.Where((_, i) => i % 7 == 0))
        {
            var image = ImageDecoder.Decode(file);
            Assert.Equal(PilImageMode.RGB, image.Mode);
            Assert.Equal((Options.ImageSize, Options.ImageSize), (image.Width, image.Height));
        }
    }

    [Fact]
    public void Manifest_records_options_and_hashes_and_detects_changes()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(world.Result.ManifestPath));
        var m = doc.RootElement;
        Assert.Equal(SyntheticWorld.GeneratorVersion, m.GetProperty("generator_version").GetInt32());
        Assert.Equal(Options.Seed, m.GetProperty("seed").GetInt32());
        Assert.Equal(Options.ImageSize, m.GetProperty("image_size").GetInt32());
        Assert.Equal(Options.PretrainCount, m.GetProperty("pretrain_count").GetInt32());
        Assert.Equal(Options.TrainPerClass, m.GetProperty("train_per_class").GetInt32());
        var tasks = m.GetProperty("tasks").EnumerateArray().ToList();
        Assert.Equal(SyntheticWorld.Tasks.Select(t => t.Name), tasks.Select(t => t.GetProperty("name").GetString()));
        foreach (var t in tasks)
        {
            string split = Path.Combine(world.World, t.GetProperty("name").GetString()!, "split.json");
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(split))), t.GetProperty("split_sha256").GetString());
        }
        Assert.Empty(SyntheticWorld.Verify(world.World, images: true));

        // A copy with one image changed and one split file edited: both are reported.
        using var temp = new Scratch();
        CopyDirectory(world.World, temp.Path);
        string png = Path.Combine(temp.Path, "synth_fine", "images", "test", "navy_circle", "0001.png");
        File.Copy(Path.Combine(temp.Path, "synth_fine", "images", "test", "navy_circle", "0002.png"), png, overwrite: true);
        Assert.Contains(SyntheticWorld.Verify(temp.Path, images: true), p => p.Contains("synth_fine") && p.Contains("images differ"));
        Assert.Empty(SyntheticWorld.Verify(temp.Path, images: false));
        File.Delete(Path.Combine(temp.Path, "pretrain", "images", "000003.png"));
        Assert.Contains(SyntheticWorld.Verify(temp.Path, images: true), p => p.Contains("pretrain") && p.Contains("images differ"));
        string splitFile = Path.Combine(temp.Path, "synth_shift", "split.json");
        File.WriteAllText(splitFile, File.ReadAllText(splitFile).Replace("\"test\":[[", "\"test\":[ ["));
        Assert.Contains(SyntheticWorld.Verify(temp.Path), p => p.Contains("synth_shift") && p.Contains("split.json"));
    }

    [Fact]
    public void Output_folder_must_be_empty_or_an_earlier_world()
    {
        using var temp = new Scratch();
        Directory.CreateDirectory(temp.Path);
        File.WriteAllText(Path.Combine(temp.Path, "notes.txt"), "mine");
        var small = Options with { PretrainCount = 5, TrainPerClass = 1, ValPerClass = 0, TestPerClass = 1 };
        Assert.Throws<IOException>(() => SyntheticWorld.Generate(temp.Path, small));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(temp.Path, "notes.txt")));

        File.Delete(Path.Combine(temp.Path, "notes.txt"));
        SyntheticWorld.Generate(temp.Path, Options with { PretrainCount = 20 });
        SyntheticWorld.Generate(temp.Path, small); // replaces the earlier world, no stale images left
        Assert.Equal(5, Directory.EnumerateFiles(Path.Combine(temp.Path, "pretrain", "images")).Count());
        Assert.Empty(SyntheticWorld.Verify(temp.Path, images: true));
        Assert.Throws<ArgumentException>(() => SyntheticWorld.Generate(temp.Path, Options with { ImageSize = 8 }));
    }

    [Fact]
    public void Caption_file_lists_every_pretraining_image_with_its_objects()
    {
        var lines = File.ReadAllLines(Path.Combine(world.World, "pretrain", "captions.jsonl"));
        Assert.Equal(Options.PretrainCount, lines.Length);
        var shapes = SyntheticWorld.Tasks[0].ClassNames;
        for (int i = 0; i < lines.Length; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            var e = doc.RootElement;
            string image = e.GetProperty("image").GetString()!;
            Assert.Equal($"images/{i:D6}.png", image);
            Assert.True(File.Exists(Path.Combine(world.World, "pretrain", image)));
            string caption = e.GetProperty("caption").GetString()!;
            Assert.Equal(SyntheticWorld.PretrainCaption(Options, i).Caption, caption);
            var objects = e.GetProperty("objects").EnumerateArray().ToList();
            Assert.InRange(objects.Count, 1, 2);
            foreach (var o in objects)
            {
                string shape = o.GetProperty("shape").GetString()!;
                Assert.Contains(shape, shapes);
                Assert.Contains(shape, caption.Split(' ', ',', ':'));
            }
            Assert.Equal(objects.Count == 2, e.GetProperty("relation").ValueKind == JsonValueKind.String);
        }
    }

    /// <summary>Pixel statistics: the sketch style of synth_shift is absent from pretraining (nearly grey, mostly light).</summary>
    [Fact]
    public void Shift_task_style_differs_from_pretraining()
    {
        static (double Saturation, double Brightness) Stats(string file)
        {
            var px = ImageDecoder.Decode(file).Rgb.Pixels;
            double sat = 0, bright = 0;
            for (int i = 0; i < px.Length; i += 3)
            {
                int max = Math.Max(px[i], Math.Max(px[i + 1], px[i + 2])), min = Math.Min(px[i], Math.Min(px[i + 1], px[i + 2]));
                sat += max == 0 ? 0 : (max - min) / (double)max;
                bright += (px[i] + px[i + 1] + px[i + 2]) / (3 * 255.0);
            }
            int n = px.Length / 3;
            return (sat / n, bright / n);
        }
        static bool LooksSketched((double Saturation, double Brightness) s) => s.Saturation < 0.05 && s.Brightness > 0.75;

        var pretrain = Directory.EnumerateFiles(Path.Combine(world.World, "pretrain", "images")).Select(Stats).ToList();
        var shift = Directory.EnumerateFiles(Path.Combine(world.World, "synth_shift", "images"), "*.png", SearchOption.AllDirectories).Select(Stats).ToList();
        var shapes = Directory.EnumerateFiles(Path.Combine(world.World, "synth_shapes", "images"), "*.png", SearchOption.AllDirectories).Select(Stats).ToList();
        output.WriteLine($"mean saturation / brightness: pretrain {pretrain.Average(s => s.Saturation):F3} / {pretrain.Average(s => s.Brightness):F3}, " +
                         $"shapes {shapes.Average(s => s.Saturation):F3} / {shapes.Average(s => s.Brightness):F3}, " +
                         $"shift {shift.Average(s => s.Saturation):F3} / {shift.Average(s => s.Brightness):F3}");
        output.WriteLine($"grey and light (saturation < 0.05, brightness > 0.75): pretrain {pretrain.Count(LooksSketched)} of {pretrain.Count}, " +
                         $"shapes {shapes.Count(LooksSketched)} of {shapes.Count}, shift {shift.Count(LooksSketched)} of {shift.Count}");
        Assert.All(shift, s => Assert.True(LooksSketched(s), $"shift image with saturation {s.Saturation:F3}, brightness {s.Brightness:F3}"));
        // A white or grey object on a light grey background passes the test too; it is still a filled shape, and rare.
        var filled = pretrain.Concat(shapes).ToList();
        Assert.True(filled.Count(LooksSketched) <= filled.Count / 20, $"{filled.Count(LooksSketched)} of {filled.Count} filled-style images look sketched");
        Assert.True(pretrain.Average(s => s.Saturation) > 0.2);
    }

    static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>A temporary output folder (not created), deleted afterwards.</summary>
    sealed class Scratch : IDisposable
    {
        readonly string _root = Directory.CreateTempSubdirectory("peft-synth-").FullName;
        public string Path => System.IO.Path.Combine(_root, "out");
        public void Dispose() => Directory.Delete(_root, recursive: true);
    }
}
