using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Peft.Imaging;
using Peft.Clip.Inference;
using Peft.Clip.Loading;
using Peft.Clip.Model;
using Peft.IO;
using Microsoft.Extensions.Logging;
using Peft.Core.Diagnostics;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Features;

/// <summary>
/// Frozen image features on disk, computed once per (backbone, view renderer, view index, image) and reused by
/// every method, experiment and run. One small safetensors file per entry:
/// <c>&lt;root&gt;/&lt;backbone&gt;/&lt;renderer&gt;/&lt;ab&gt;/&lt;image sha256&gt;.v&lt;view&gt;.safetensors</c>, where backbone
/// and renderer are hashes (their readable descriptions sit beside them in <c>backbone.json</c> /
/// <c>renderer.json</c>) and the image is identified by the SHA-256 of its file, not its path.
/// Entries are written to a temporary file and renamed, so a killed process leaves no half entry, and several
/// processes may fill the same cache at once (they write identical entries; the last rename wins). Each entry
/// carries the SHA-256 of its float payload (metadata <c>sha256</c>); an entry that does not read back, whose payload
/// does not match it (bits flipped or zeroed on disk, power loss) or that has none (written before checksums) is
/// recomputed, with a warning, so damaged features are never used.
/// </summary>
public sealed class FeatureCache
{
    readonly string _root;
    readonly ClipModel _model;
    readonly int _batchSize;
    readonly ConcurrentDictionary<(string path, long size, DateTime modified), string> _imageHashes = new();

    public string BackboneFingerprint { get; }
    public FeatureCacheStats Stats { get; } = new();
    /// <summary>Called with (views done, views to encode) while missing entries are encoded.</summary>
    public Action<int, int>? Progress { get; init; }
    /// <summary>Where warnings about damaged or unchecked entries go (one line each; stderr by default).</summary>
    public Action<string> Warn { get; set; } = line => PeftLog.Line(typeof(FeatureCache).FullName!, line);
    /// <summary>Metadata key of the payload's SHA-256 (lower-case hex of the little-endian float32 bytes).</summary>
    public const string ChecksumKey = "sha256";
    /// <summary>Damaged entries named one by one per call before the rest are counted in one line.</summary>
    const int NamedCorruptEntries = 3;
    int _uncheckedWarned;

    public FeatureCache(string root, ClipModel model, int batchSize = 32)
    {
        _root = Path.GetFullPath(root);
        _model = model;
        _batchSize = batchSize;
        BackboneFingerprint = global::Peft.Features.BackboneFingerprint.Of(model);
        var dir = BackboneDir;
        Directory.CreateDirectory(dir);
        WriteDescription(Path.Combine(dir, "backbone.json"), new { fingerprint = BackboneFingerprint, model = model.Config.Describe(), compute = model.ComputeType.ToString() });
    }

    string BackboneDir => Path.Combine(_root, BackboneFingerprint[..16]);

    /// <summary>The cache key of one entry, as a readable string (what the file name hashes).</summary>
    public string EntryKey(IViewRenderer renderer, string imageHash, int view) =>
        $"{BackboneFingerprint}|{renderer.Key}|{view}|{imageHash}";

    /// <summary>Features [N, D] of one view (0 for the evaluation transform) of each image, in order.</summary>
    public Tensor Features(IReadOnlyList<string> imagePaths, IViewRenderer renderer, int viewIndex = 0, CancellationToken cancel = default)
    {
        using var scope = NewDisposeScope();
        return Views(imagePaths, renderer, [viewIndex], cancel)[0].MoveToOuterDisposeScope();
    }

    /// <summary>Features [V, N, D] of views 0..V-1 of each image (training views of an augmentation).</summary>
    public Tensor Views(IReadOnlyList<string> imagePaths, IViewRenderer renderer, int views, CancellationToken cancel = default) =>
        Views(imagePaths, renderer, Enumerable.Range(0, views).ToArray(), cancel);

    Tensor Views(IReadOnlyList<string> imagePaths, IViewRenderer renderer, int[] viewIndices, CancellationToken cancel)
    {
        if (renderer.Size != _model.ImageResolution)
            throw new ArgumentException($"renderer produces {renderer.Size}px views but the model takes {_model.ImageResolution}px");
        var rendererDir = Path.Combine(BackboneDir, Hash(renderer.Key)[..16]);
        Directory.CreateDirectory(rendererDir);
        WriteDescription(Path.Combine(rendererDir, "renderer.json"), new { key = renderer.Key });

        foreach (var path in imagePaths)
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: image not found", path);
        var hashes = new string[imagePaths.Count];
        Parallel.For(0, imagePaths.Count, i => hashes[i] = ImageHash(imagePaths[i]));

        int d = _model.EmbedDim;
        var result = new float[viewIndices.Length, imagePaths.Count, d];
        var missing = new List<(int v, int i)>();
        var corrupt = new List<string>();
        int unchecked_ = 0;
        for (int v = 0; v < viewIndices.Length; v++)
            for (int i = 0; i < imagePaths.Count; i++)
            {
                var path = EntryPath(rendererDir, hashes[i], viewIndices[v]);
                var (row, status) = TryRead(path, d);
                if (status == EntryStatus.Corrupt) corrupt.Add(path);
                else if (status == EntryStatus.Unchecked) unchecked_++;
                if (row is null) missing.Add((v, i));
                else for (int k = 0; k < d; k++) result[v, i, k] = row[k];
            }
        Stats.AddHits(viewIndices.Length * imagePaths.Count - missing.Count);
        PeftLog.For(typeof(FeatureCache).FullName!).LogDebug("{Dir}: {Hits} of {Entries} entries cached, {Missing} to encode ({Renderer})",
            rendererDir, viewIndices.Length * imagePaths.Count - missing.Count, viewIndices.Length * imagePaths.Count, missing.Count, renderer.Key);
        Stats.AddRejected(corrupt.Count + unchecked_);
        foreach (var path in corrupt.Take(NamedCorruptEntries))
            Warn($"warning: feature cache entry {path} does not match its checksum (damaged on disk); recomputing it");
        if (corrupt.Count > NamedCorruptEntries)
            Warn($"warning: {corrupt.Count - NamedCorruptEntries} more damaged feature cache entries under {rendererDir}; recomputing them");
        if (unchecked_ > 0 && Interlocked.Exchange(ref _uncheckedWarned, 1) == 0)
            Warn($"note: {unchecked_} feature cache entries under {BackboneDir} have no checksum (written by an older peft); recomputing them");

        if (missing.Count > 0)
        {
            var encoder = new PipelinedImageEncoder(_model, _batchSize) { Progress = Progress };
            encoder.Run(missing,
                m => renderer.Render(Decode(imagePaths[m.i]), hashes[m.i], viewIndices[m.v]),
                (batch, features) =>
                {
                    var rows = features.data<float>().ToArray();
                    for (int b = 0; b < batch.Count; b++)
                    {
                        var (v, i) = batch[b];
                        var row = rows.AsSpan(b * d, d);
                        for (int k = 0; k < d; k++) result[v, i, k] = row[k];
                        Write(EntryPath(rendererDir, hashes[i], viewIndices[v]), row, renderer.Key, viewIndices[v], hashes[i]);
                    }
                    Stats.AddEncoded(batch.Count);
                }, cancel);
        }
        return tensor(result);
    }

    static DecodedImage Decode(string path) => ImageDecoder.Decode(path);

    /// <summary>SHA-256 of the file's bytes, remembered per (path, size, modification time) within this cache object.</summary>
    internal string ImageHash(string path)
    {
        var info = new FileInfo(path);
        return _imageHashes.GetOrAdd((info.FullName, info.Length, info.LastWriteTimeUtc), _ =>
        {
            using var stream = File.OpenRead(path);
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        });
    }

    static string EntryPath(string rendererDir, string imageHash, int view) =>
        Path.Combine(rendererDir, imageHash[..2], $"{imageHash}.v{view}.safetensors");

    enum EntryStatus { Ok, Missing, Unreadable, Corrupt, Unchecked }

    /// <summary>The entry's features, or null (with why) when it is absent, unreadable, damaged or unchecked.</summary>
    static (float[]? row, EntryStatus status) TryRead(string path, int d)
    {
        if (!File.Exists(path)) return (null, EntryStatus.Missing);
        try
        {
            using var stream = File.OpenRead(path);
            var (entries, metadata, dataStart) = SafeTensorsFile.ReadHeader(stream, path);
            var entry = entries.FirstOrDefault(e => e.Name == "feature");
            if (entry is null || entry.DType != ScalarType.Float32 || entry.Shape.Length != 1 || entry.Shape[0] != d) return (null, EntryStatus.Unreadable);
            var bytes = new byte[entry.End - entry.Begin];
            stream.Seek(dataStart + entry.Begin, SeekOrigin.Begin);
            stream.ReadExactly(bytes);
            if (!metadata.TryGetValue(ChecksumKey, out var expected)) return (null, EntryStatus.Unchecked);
            if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(bytes)), expected, StringComparison.Ordinal)) return (null, EntryStatus.Corrupt);
            var row = new float[d];
            bytes.AsSpan().CopyTo(MemoryMarshal.AsBytes(row.AsSpan()));
            return (row, EntryStatus.Ok);
        }
        catch (Exception e) when (e is TensorFileException or IOException)
        {
            return (null, EntryStatus.Unreadable); // recompute and overwrite it
        }
    }

    static void Write(string path, ReadOnlySpan<float> row, string rendererKey, int view, string imageHash)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var t = tensor(row.ToArray());
        SafeTensorsFile.Write(path, [new("feature", t)], new Dictionary<string, string>
        {
            ["renderer"] = rendererKey, ["view"] = view.ToString(), ["image_sha256"] = imageHash,
            // safetensors stores little-endian floats: hash those bytes so a reader on any machine checks the same thing.
            [ChecksumKey] = Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(row))),
        });
    }

    static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    static void WriteDescription(string path, object description)
    {
        if (!File.Exists(path))
            AtomicFile.TryCreate(path, JsonSerializer.SerializeToUtf8Bytes(description, new JsonSerializerOptions { WriteIndented = true }));
    }
}
