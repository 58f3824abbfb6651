using Peft.Data.Datasets;
using Peft.Core.Diagnostics;

namespace Peft.Data.Splits;

/// <summary>
/// Split manifests made once and reused, like CoOp's <c>split_fewshot/shot_{K}-seed_{seed}.pkl</c> cache but keyed also by
/// sampling mode and validation shots: <c>&lt;cache&gt;/splits/&lt;dataset&gt;/shot_&lt;K&gt;-seed_&lt;S&gt;-&lt;mode&gt;.json</c>, with
/// <c>-val_&lt;V&gt;</c> before <c>.json</c> when the validation shots are not the default <c>min(K, 4)</c>.
/// </summary>
/// <remarks>
/// A stored manifest is reused without reading the dataset again (it is validated, including its hash, and must
/// describe the same dataset name, shots, seed, mode and validation shots). Creation is safe across processes: each
/// writer renames a complete temporary file into place without replacing, so one wins and the others verify that the
/// winner holds the same split (same sha256), which it does when they sampled the same dataset; if it does not, that is
/// an error rather than a silent switch of split. A stored manifest that does not read back (truncated, zeroed by a
/// power loss, edited so its hash fails) is made again from the dataset — sampling is deterministic — and replaced,
/// with a warning naming the file.
/// </remarks>
public sealed class SplitStore(string cacheDirectory)
{
    public string CacheDirectory { get; } = Path.GetFullPath(cacheDirectory);

    /// <summary>Told when a damaged manifest is made again (default: a <c>warning:</c> line on stderr).</summary>
    public Action<string> Warn { get; init; } = message => PeftLog.Line(typeof(SplitStore).FullName!, $"warning: {message}");

    /// <summary>Where the manifest for these parameters lives.</summary>
    public string PathFor(string dataset, FewShotRequest request)
    {
        request.Validate();
        if (string.IsNullOrWhiteSpace(dataset) || dataset.IndexOfAny(['/', '\\', '\0']) >= 0 || dataset is "." or "..")
            throw new ArgumentException($"'{dataset}' cannot be used as a folder name for its splits", nameof(dataset));
        var name = $"shot_{request.Shots}-seed_{request.Seed}-{request.Mode.ToName()}";
        if (request.EffectiveValShots != Math.Min(request.Shots, 4))
            name += $"-val_{request.EffectiveValShots}";
        return Path.Combine(CacheDirectory, "splits", dataset, name + ".json");
    }

    /// <summary>The stored manifest, or a new one sampled from <paramref name="load"/>() and stored.</summary>
    /// <param name="created">True when this call sampled and wrote the manifest.</param>
    public SplitManifest GetOrCreate(string dataset, FewShotRequest request, Func<ImageDataset> load, out bool created)
    {
        ArgumentNullException.ThrowIfNull(load);
        var path = PathFor(dataset, request);
        bool damaged = File.Exists(path);
        if (damaged && ReadStored(path, dataset, request) is { } stored)
        {
            created = false;
            return stored;
        }
        var data = load();
        if (data.Name != dataset)
            throw new ArgumentException($"asked for dataset '{dataset}' but the loader returned '{data.Name}'", nameof(load));
        return Store(SplitManifest.Create(data, request), path, damaged, dataset, request, out created);
    }

    /// <summary>
    /// The stored manifest for this dataset's content, or a new one: manifests live under
    /// <c>splits/&lt;name&gt;-&lt;content fingerprint&gt;/</c>, so a changed dataset (or another folder read by the same
    /// reader) never gets a stale split.
    /// </summary>
    public SplitManifest GetOrCreate(ImageDataset dataset, FewShotRequest request, out bool created)
    {
        var key = $"{dataset.Name}-{DatasetFingerprint.Of(dataset)[..12]}";
        var path = PathFor(key, request);
        bool damaged = File.Exists(path);
        if (damaged && ReadStored(path, dataset.Name, request) is { } stored)
        {
            created = false;
            return stored;
        }
        return Store(SplitManifest.Create(dataset, request), path, damaged, dataset.Name, request, out created);
    }

    /// <summary>The stored manifest or a new one read through <paramref name="reader"/> from <paramref name="root"/>.</summary>
    public SplitManifest GetOrCreate(IDatasetReader reader, string root, FewShotRequest request, out bool created) =>
        GetOrCreate(reader.Name, request, () => reader.Read(root), out created);

    /// <summary>The stored manifest; null (after a warning) when the file is damaged and must be made again.</summary>
    SplitManifest? ReadStored(string path, string dataset, FewShotRequest request)
    {
        SplitManifest stored;
        try
        {
            stored = SplitManifest.Read(path);
        }
        catch (DatasetFormatException e)
        {
            Warn($"split manifest damaged, making it again (the split is deterministic): {e.Message}");
            return null;
        }
        return CheckMatches(stored, path, dataset, request);
    }

    /// <summary>Writes a new manifest (replacing the damaged one when <paramref name="replace"/>); when another process
    /// wrote it first, checks theirs.</summary>
    SplitManifest Store(SplitManifest manifest, string path, bool replace, string dataset, FewShotRequest request, out bool created)
    {
        var outcome = manifest.Write(path, overwrite: replace);
        created = outcome is WriteOutcome.Created or WriteOutcome.Replaced;
        return created ? manifest : CheckMatches(SplitManifest.Read(path), path, dataset, request);
    }

    static SplitManifest CheckMatches(SplitManifest m, string path, string dataset, FewShotRequest request)
    {
        if (m.Dataset != dataset || m.Shots != request.Shots || m.Seed != request.Seed || m.Sampling != request.Mode ||
            m.ValShots != request.EffectiveValShots)
            throw new DatasetFormatException(path,
                $"holds dataset '{m.Dataset}', {m.Shots} shots, seed {m.Seed?.ToString() ?? "none"}, {m.Sampling.ToName()}, " +
                $"val {m.ValShots}; expected '{dataset}', {request.Shots} shots, seed {request.Seed}, {request.Mode.ToName()}, " +
                $"val {request.EffectiveValShots}; delete it to make the split again");
        return m;
    }
}
