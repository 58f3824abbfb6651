using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Peft.Tensors;
using static TorchSharp.torch;

namespace Peft.Features;

/// <summary>
/// The cache layout before packed segments: one safetensors file per (image, view),
/// <c>&lt;renderer dir&gt;/&lt;ab&gt;/&lt;image sha256&gt;.v&lt;view&gt;.safetensors</c>, tensor <c>feature</c> [D] and metadata
/// <c>sha256</c> (of the float bytes). A cache written that way is moved into segments on first use: intact entries
/// are kept, unchecked (older) or damaged ones dropped and encoded again.
/// </summary>
public static class LegacyFeatureEntries
{
    public const string ChecksumKey = "sha256";

    public readonly record struct Outcome(int Moved, int Unchecked, int Damaged)
    {
        public int Total => Moved + Unchecked + Damaged;
    }

    /// <summary>Whether <paramref name="rendererDir"/> holds entries in the old layout (two-hex-digit folders).</summary>
    public static bool Present(string rendererDir) =>
        Directory.Exists(rendererDir) && Directory.EnumerateDirectories(rendererDir).Any(d => IsShard(Path.GetFileName(d)));

    static bool IsShard(string name) => name.Length == 2 && name.AsSpan().IndexOfAnyExcept("0123456789abcdef") < 0;

    /// <summary>The entry's path in the old layout (what older versions wrote; tests and benchmarks write it too).</summary>
    public static string EntryPath(string rendererDir, string imageHash, int view) =>
        Path.Combine(rendererDir, imageHash[..2], $"{imageHash}.v{view}.safetensors");

    /// <summary>Writes one entry as older versions did.</summary>
    public static void Write(string path, ReadOnlySpan<float> row, string rendererKey, int view, string imageHash, bool withChecksum = true)
    {
        var metadata = new Dictionary<string, string> { ["renderer"] = rendererKey, ["view"] = view.ToString(), ["image_sha256"] = imageHash };
        if (withChecksum) metadata[ChecksumKey] = Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(row)));
        SafeTensorsFile.WriteRaw(path, [new("feature", ScalarType.Float32, [row.Length], MemoryMarshal.AsBytes(row).ToArray())], metadata);
    }

    /// <summary>
    /// Moves every old-layout entry under <paramref name="rendererDir"/> into the packed stores (one per view, given
    /// by <paramref name="store"/>), then deletes the old files and their folders. Safe to run by several processes at
    /// once (an entry moved twice is stored twice, which readers tolerate; a file already deleted is skipped).
    /// </summary>
    public static Outcome Migrate(string rendererDir, int dim, Func<int, PackedFeatureStore> store)
    {
        int moved = 0, unchecked_ = 0, damaged = 0;
        foreach (var shard in Directory.EnumerateDirectories(rendererDir).Where(d => IsShard(Path.GetFileName(d))).ToList())
        {
            var byView = new Dictionary<int, List<(ImageKey, float[])>>();
            var files = Directory.GetFiles(shard, "*.safetensors");
            foreach (var file in files)
            {
                var name = Path.GetFileName(file);
                int dot = name.IndexOf(".v", StringComparison.Ordinal);
                if (dot != 64 || !int.TryParse(name.AsSpan(dot + 2, name.Length - dot - 2 - ".safetensors".Length), out int view)) continue;
                var (row, status) = TryRead(file, dim);
                if (status == Status.Missing) continue;
                if (status == Status.Unchecked) unchecked_++;
                else if (row is null) damaged++;
                else
                {
                    if (!byView.TryGetValue(view, out var rows)) byView[view] = rows = [];
                    rows.Add((ImageKey.FromHex(name[..64]), row));
                    moved++;
                }
            }
            foreach (var (view, rows) in byView) store(view).Append(rows);
            foreach (var file in files)
                try { File.Delete(file); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            try { if (!Directory.EnumerateFileSystemEntries(shard).Any()) Directory.Delete(shard); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* another process wrote there meanwhile */ }
        }
        return new(moved, unchecked_, damaged);
    }

    enum Status { Ok, Missing, Unreadable, Damaged, Unchecked }

    /// <summary>The entry's features if it is intact (as older versions read it: header, payload, checksum), else null.</summary>
    public static float[]? Read(string path, int dim) => TryRead(path, dim).row;

    static (float[]? row, Status status) TryRead(string path, int dim)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var (entries, metadata, dataStart) = SafeTensorsFile.ReadHeader(stream, path);
            var entry = entries.FirstOrDefault(e => e.Name == "feature");
            if (entry is null || entry.DType != ScalarType.Float32 || entry.Shape.Length != 1 || entry.Shape[0] != dim) return (null, Status.Unreadable);
            var bytes = new byte[entry.End - entry.Begin];
            stream.Seek(dataStart + entry.Begin, SeekOrigin.Begin);
            stream.ReadExactly(bytes);
            if (!metadata.TryGetValue(ChecksumKey, out var expected)) return (null, Status.Unchecked);
            if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(bytes)), expected, StringComparison.Ordinal)) return (null, Status.Damaged);
            var row = new float[dim];
            bytes.AsSpan().CopyTo(MemoryMarshal.AsBytes(row.AsSpan()));
            return (row, Status.Ok);
        }
        catch (FileNotFoundException) { return (null, Status.Missing); } // moved by another process meanwhile
        catch (Exception e) when (e is TensorFileException or IOException) { return (null, Status.Unreadable); }
    }
}
