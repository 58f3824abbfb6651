using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Peft.Features;

/// <summary>
/// The feature cache's two layouts on one synthetic split (random keys and features, no encoder): the old one file
/// per (image, view) against packed segments. Prints write time, read time of the whole split and of a 1,000-image
/// cell subset (each from a new reader, as a new process would), file count and disk use, and the ratios.
/// </summary>
static class FeatureCacheLayouts
{
    public static int Run(string workDir, int images, int dim)
    {
        var root = Path.GetFullPath(workDir);
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        var random = new Random(1);
        var keys = Enumerable.Range(0, images).Select(i => ImageKey.FromBytes(SHA256.HashData(Encoding.UTF8.GetBytes($"image {i}")))).ToArray();
        var rows = keys.Select(_ => Enumerable.Range(0, dim).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();
        var subset = Enumerable.Range(0, images).OrderBy(_ => random.Next()).Take(Math.Min(1000, images)).ToArray();
        var meta = new Dictionary<string, string> { ["renderer"] = "bench", ["view"] = "0" };
        var results = new Dictionary<string, Dictionary<string, double>>();
        Console.WriteLine($"feature cache layouts: {images:N0} images x {dim} floats, {Environment.ProcessorCount} CPUs, {root}");

        // Old layout: <renderer>/<ab>/<sha>.v0.safetensors, written and read as the previous FeatureCache did.
        var legacyDir = Path.Combine(root, "legacy");
        var sw = Stopwatch.StartNew();
        var progress = Stopwatch.StartNew();
        for (int i = 0; i < images; i++)
        {
            var hash = keys[i].ToString();
            LegacyFeatureEntries.Write(LegacyFeatureEntries.EntryPath(legacyDir, hash, 0), rows[i], "bench", 0, hash);
            if (progress.Elapsed.TotalSeconds >= 10) { Console.Error.WriteLine($"  old layout: {i + 1:N0} of {images:N0} written"); progress.Restart(); }
        }
        double legacyWrite = sw.Elapsed.TotalSeconds;
        double LegacyRead(IEnumerable<int> which)
        {
            var t = Stopwatch.StartNew();
            foreach (var i in which)
                if (LegacyFeatureEntries.Read(LegacyFeatureEntries.EntryPath(legacyDir, keys[i].ToString(), 0), dim) is null)
                    throw new InvalidOperationException($"old layout: entry {i} did not read back");
            return t.Elapsed.TotalSeconds;
        }
        results["old"] = Measure(legacyWrite, LegacyRead(Enumerable.Range(0, images)), LegacyRead(subset), legacyDir);

        // Packed: one segment for the split.
        var packedDir = Path.Combine(root, "packed");
        sw.Restart();
        using (var store = new PackedFeatureStore(packedDir, dim, meta, Console.Error.WriteLine))
            store.Append(keys.Zip(rows).ToList());
        double packedWrite = sw.Elapsed.TotalSeconds;
        double PackedRead(int[] which)
        {
            var t = Stopwatch.StartNew();
            using var store = new PackedFeatureStore(packedDir, dim, meta, Console.Error.WriteLine);
            var dest = new float[which.Length * dim];
            var found = store.Read(which.Select(i => keys[i]).ToList(), j => dest.AsSpan(j * dim, dim), []);
            if (found.Any(f => !f)) throw new InvalidOperationException("packed: a row did not read back");
            return t.Elapsed.TotalSeconds;
        }
        results["packed"] = Measure(packedWrite, PackedRead(Enumerable.Range(0, images).ToArray()), PackedRead(subset), packedDir);

        Console.WriteLine($"{"layout",-8} {"write s",9} {"read split s",13} {"read 1k s",10} {"files",8} {"disk MB",9}");
        foreach (var (name, r) in results)
            Console.WriteLine($"{name,-8} {r["write_s"],9:F2} {r["read_split_s"],13:F3} {r["read_subset_s"],10:F4} {r["files"],8:F0} {r["disk_mb"],9:F1}");
        var (o, p) = (results["old"], results["packed"]);
        Console.WriteLine($"{"old/new",-8} {o["write_s"] / p["write_s"],8:F1}x {o["read_split_s"] / p["read_split_s"],12:F1}x {o["read_subset_s"] / p["read_subset_s"],9:F1}x {o["files"] / p["files"],7:F0}x {o["disk_mb"] / p["disk_mb"],8:F2}x");
        Console.WriteLine(JsonSerializer.Serialize(results));
        Directory.Delete(root, recursive: true);
        return 0;
    }

    static Dictionary<string, double> Measure(double write, double readSplit, double readSubset, string dir) => new()
    {
        ["write_s"] = write, ["read_split_s"] = readSplit, ["read_subset_s"] = readSubset,
        ["files"] = Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Length,
        ["disk_mb"] = DiskBytes(dir) / 1e6,
    };

    /// <summary>Allocated bytes as <c>du</c> counts them (small files take whole blocks), or the sum of lengths without du.</summary>
    static double DiskBytes(string dir)
    {
        try
        {
            using var du = Process.Start(new ProcessStartInfo("du", ["-s", "-B1", dir]) { RedirectStandardOutput = true })!;
            var output = du.StandardOutput.ReadToEnd();
            du.WaitForExit();
            if (du.ExitCode == 0) return double.Parse(output.Split('\t')[0]);
        }
        catch (System.ComponentModel.Win32Exception) { }
        return Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
    }
}
