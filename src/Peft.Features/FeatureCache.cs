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
/// every method, experiment and run. Packed: <c>&lt;root&gt;/&lt;backbone&gt;/&lt;renderer&gt;/v&lt;view&gt;/</c> holds a few
/// large immutable segments (<see cref="PackedFeatureStore"/>; in practice one per dataset split, as a split is
/// encoded in one call), where backbone and renderer are hashes (their readable descriptions sit beside them in
/// <c>backbone.json</c> / <c>renderer.json</c>) and an image is identified by the SHA-256 of its file, not its path,
/// so the same image in two datasets or experiments is encoded once. Segments are published by rename, so a killed
/// process leaves no half segment, and several processes may fill the same cache at once. Every row carries a
/// checksum of its key and floats; a row that does not match it (bits flipped or zeroed on disk) is encoded again,
/// with a warning, so damaged features are never used. A cache in the old one-file-per-entry layout is moved into
/// segments on first use (<see cref="LegacyFeatureEntries"/>).
/// </summary>
public sealed class FeatureCache : IDisposable
{
    readonly string _root;
    readonly ClipModel _model;
    readonly int _batchSize;
    readonly ConcurrentDictionary<(string path, long size, DateTime modified), string> _imageHashes = new();
    readonly ConcurrentDictionary<string, PackedFeatureStore> _stores = new();
    readonly ConcurrentDictionary<string, bool> _legacyChecked = new();

    public string BackboneFingerprint { get; }
    public FeatureCacheStats Stats { get; } = new();
    /// <summary>Called with (views done, views to encode) while missing entries are encoded.</summary>
    public Action<int, int>? Progress { get; init; }
    /// <summary>Where warnings about damaged or unchecked entries go (one line each; stderr by default).</summary>
    public Action<string> Warn { get; set; } = line => PeftLog.Line(typeof(FeatureCache).FullName!, line);
    /// <summary>Damaged entries named one by one per call before the rest are counted in one line.</summary>
    const int NamedCorruptEntries = 3;
    /// <summary>Encoded features are published at least this often during a long encoding (and at its end), so a killed run keeps them.</summary>
    public TimeSpan PublishEvery { get; init; } = TimeSpan.FromMinutes(2);

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

    /// <summary>The folder of one renderer's entries (its views in <c>v&lt;view&gt;</c> below it).</summary>
    public string RendererDirectory(IViewRenderer renderer) => Path.Combine(BackboneDir, Hash(renderer.Key)[..16]);

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

    PackedFeatureStore Store(string rendererDir, string rendererKey, int view) =>
        _stores.GetOrAdd(Path.Combine(rendererDir, $"v{view}"), dir => new PackedFeatureStore(dir, _model.EmbedDim,
            new Dictionary<string, string> { ["backbone"] = BackboneFingerprint, ["renderer"] = rendererKey, ["view"] = view.ToString() }, Warn));

    Tensor Views(IReadOnlyList<string> imagePaths, IViewRenderer renderer, int[] viewIndices, CancellationToken cancel)
    {
        if (renderer.Size != _model.ImageResolution)
            throw new ArgumentException($"renderer produces {renderer.Size}px views but the model takes {_model.ImageResolution}px");
        var rendererDir = RendererDirectory(renderer);
        Directory.CreateDirectory(rendererDir);
        WriteDescription(Path.Combine(rendererDir, "renderer.json"), new { key = renderer.Key });
        MoveLegacyEntries(rendererDir, renderer.Key);

        foreach (var path in imagePaths)
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: image not found", path);
        var hashes = new string[imagePaths.Count];
        Parallel.For(0, imagePaths.Count, i => hashes[i] = ImageHash(imagePaths[i]));
        var keys = hashes.Select(ImageKey.FromHex).ToArray();

        int d = _model.EmbedDim, n = imagePaths.Count;
        var result = new float[checked(viewIndices.Length * n * d)];
        Span<float> Row(int v, int i) => result.AsSpan((v * n + i) * d, d);
        var missing = new List<(int v, int i)>();
        var damaged = new List<(string segment, int index)>();
        for (int v = 0; v < viewIndices.Length; v++)
        {
            var viewDamaged = new List<(string segment, int index)>();
            int view = v;
            var found = Store(rendererDir, renderer.Key, viewIndices[v]).Read(keys, i => Row(view, i), viewDamaged);
            for (int i = 0; i < n; i++)
                if (!found[i]) missing.Add((v, i));
            damaged.AddRange(viewDamaged.Where(x => !found[x.index])); // a damaged copy with an intact one elsewhere is no loss
        }
        Stats.AddHits(viewIndices.Length * n - missing.Count);
        PeftLog.For(typeof(FeatureCache).FullName!).LogDebug("{Dir}: {Hits} of {Entries} entries cached, {Missing} to encode ({Renderer})",
            rendererDir, viewIndices.Length * n - missing.Count, viewIndices.Length * n, missing.Count, renderer.Key);
        Stats.AddRejected(damaged.Count);
        foreach (var (segment, index) in damaged.Take(NamedCorruptEntries))
            Warn($"warning: feature cache entry of image {hashes[index]} in {segment} does not match its checksum (damaged on disk); recomputing it");
        if (damaged.Count > NamedCorruptEntries)
            Warn($"warning: {damaged.Count - NamedCorruptEntries} more damaged feature cache entries under {rendererDir}; recomputing them");

        if (missing.Count > 0) Encode(imagePaths, renderer, viewIndices, rendererDir, hashes, keys, missing, (v, i) => Row(v, i), cancel);
        return tensor(result, [viewIndices.Length, n, d]);
    }

    delegate Span<float> RowOf(int v, int i);

    void Encode(IReadOnlyList<string> imagePaths, IViewRenderer renderer, int[] viewIndices, string rendererDir, string[] hashes,
                ImageKey[] keys, List<(int v, int i)> missing, RowOf row, CancellationToken cancel)
    {
        int d = _model.EmbedDim;
        var pending = viewIndices.Select(_ => new List<(ImageKey, float[])>()).ToArray();
        var lastPublish = System.Diagnostics.Stopwatch.StartNew();
        void Publish()
        {
            for (int v = 0; v < pending.Length; v++)
            {
                Store(rendererDir, renderer.Key, viewIndices[v]).Append(pending[v]);
                pending[v] = [];
            }
            lastPublish.Restart();
        }
        try
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
                        var features_ = rows.AsSpan(b * d, d).ToArray();
                        features_.CopyTo(row(v, i));
                        pending[v].Add((keys[i], features_));
                    }
                    Stats.AddEncoded(batch.Count);
                    if (lastPublish.Elapsed >= PublishEvery) Publish();
                }, cancel);
        }
        finally
        {
            Publish(); // what was encoded before a failure or cancellation is kept
        }
    }

    /// <summary>Moves a renderer folder's entries of the old one-file-per-entry layout into segments (once per folder and cache object).</summary>
    void MoveLegacyEntries(string rendererDir, string rendererKey)
    {
        if (!_legacyChecked.TryAdd(rendererDir, true) || !LegacyFeatureEntries.Present(rendererDir)) return;
        var outcome = LegacyFeatureEntries.Migrate(rendererDir, _model.EmbedDim, view => Store(rendererDir, rendererKey, view));
        if (outcome.Moved > 0)
            Warn($"note: moved {outcome.Moved} feature cache entries under {rendererDir} from one file each into the packed layout");
        if (outcome.Unchecked > 0)
            Warn($"note: {outcome.Unchecked} feature cache entries under {rendererDir} have no checksum (written by an older peft); recomputing them");
        Stats.AddRejected(outcome.Unchecked + outcome.Damaged);
        if (outcome.Damaged > 0)
            Warn($"warning: {outcome.Damaged} damaged feature cache entries under {rendererDir} (old layout) were dropped; recomputing them");
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

    static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    static void WriteDescription(string path, object description)
    {
        if (!File.Exists(path))
            AtomicFile.TryCreate(path, JsonSerializer.SerializeToUtf8Bytes(description, new JsonSerializerOptions { WriteIndented = true }));
    }

    public void Dispose()
    {
        foreach (var store in _stores.Values) store.Dispose();
        _stores.Clear();
    }
}
