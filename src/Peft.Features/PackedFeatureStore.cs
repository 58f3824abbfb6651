using Peft.Tensors;

namespace Peft.Features;

/// <summary>
/// The features of one (backbone, transform, view) as a folder of immutable segments (<see cref="FeatureSegment"/>).
/// Append-only: new features become a new segment, published by rename, so readers and concurrent writers (threads,
/// processes, Slurm shards on one file system) never see a partial one. An image in several segments (two shards
/// encoded it at once) is read from the newest segment whose row is intact. Small segments are merged once there are
/// <see cref="MergeAt"/> of them: the merged segment is published before its inputs are deleted, and a reader that
/// still maps a deleted input keeps reading it (Unix) or finds its rows in the merged one on its next refresh.
/// </summary>
public sealed class PackedFeatureStore : IDisposable
{
    /// <summary>Segments with fewer rows than this are merged (larger ones, e.g. a whole test split, stay as they are).</summary>
    public const int SmallRows = 1 << 16;
    /// <summary>Number of small segments that triggers a merge.</summary>
    public const int MergeAt = 16;
    public const string Extension = ".safetensors";
    const string DamagedSuffix = ".damaged";

    readonly int _dim;
    readonly Dictionary<string, string> _metadata;
    readonly Action<string> _warn;
    /// <summary>Open segments by file name, newest (largest name) last.</summary>
    readonly SortedDictionary<string, FeatureSegment> _segments = new(StringComparer.Ordinal);
    readonly Lock _lock = new();

    public string Directory { get; }

    public PackedFeatureStore(string directory, int dim, IReadOnlyDictionary<string, string> metadata, Action<string> warn)
    {
        Directory = Path.GetFullPath(directory);
        _dim = dim;
        _metadata = new(metadata);
        _warn = warn;
        System.IO.Directory.CreateDirectory(Directory);
    }

    public int SegmentCount { get { lock (_lock) { Refresh(); return _segments.Count; } } }

    /// <summary>
    /// Fills <paramref name="destination"/>[i] with the features of keys[i] where an intact row exists; returns the
    /// indices found, and adds to <paramref name="damaged"/> (segment path, index) the rows that failed their checksum
    /// (an index may still be found in an older segment).
    /// </summary>
    public bool[] Read(IReadOnlyList<ImageKey> keys, Func<int, Span<float>> destination, List<(string segment, int index)> damaged)
    {
        lock (_lock)
        {
            Refresh();
            var newestFirst = _segments.Values.Reverse().ToList();
            var found = new bool[keys.Count];
            for (int i = 0; i < keys.Count; i++)
                foreach (var segment in newestFirst)
                {
                    if (!segment.TryFind(keys[i], out int row)) continue;
                    if (segment.TryRead(row, destination(i))) { found[i] = true; break; }
                    damaged.Add((segment.Path, i));
                }
            return found;
        }
    }

    /// <summary>Publishes rows as new segments (split by <see cref="FeatureSegment.MaxBytes"/>), then merges small ones if due.</summary>
    public void Append(IReadOnlyList<(ImageKey Key, float[] Features)> rows)
    {
        if (rows.Count == 0) return;
        int perSegment = (int)Math.Min(int.MaxValue, FeatureSegment.MaxBytes / ((long)_dim * sizeof(float)));
        lock (_lock)
        {
            for (int start = 0; start < rows.Count; start += perSegment)
                FeatureSegment.Write(NewSegmentPath(), rows.Skip(start).Take(perSegment).ToList(), _dim, _metadata);
            Refresh();
            MergeSmallSegments();
        }
    }

    /// <summary>A name that sorts after every segment this process has seen (time, then process and a random tail).</summary>
    string NewSegmentPath()
    {
        long ticks = DateTime.UtcNow.Ticks;
        var newest = _segments.Keys.LastOrDefault();
        if (newest is not null && long.TryParse(newest.AsSpan(0, 19), out long seen) && seen >= ticks) ticks = seen + 1;
        return Path.Combine(Directory, $"{ticks:D19}-{Environment.ProcessId}-{Guid.NewGuid():N}"[..48] + Extension);
    }

    /// <summary>Opens segments that appeared, closes those that disappeared, and sets aside unreadable ones.</summary>
    void Refresh()
    {
        var names = System.IO.Directory.EnumerateFiles(Directory, "*" + Extension)
            .Select(Path.GetFileName).OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (var gone in _segments.Keys.Where(n => !names.Contains(n)).ToList())
        {
            _segments[gone].Dispose();
            _segments.Remove(gone);
        }
        foreach (var name in names.Where(n => !_segments.ContainsKey(n)))
        {
            var path = Path.Combine(Directory, name);
            try
            {
                _segments[name] = FeatureSegment.Open(path, _dim);
            }
            catch (FileNotFoundException) { /* merged and deleted by another process since the listing */ }
            catch (Exception e) when (e is TensorFileException or IOException or UnauthorizedAccessException)
            {
                // Published segments are complete by construction, so an unreadable one is damaged for every reader:
                // keep it for inspection under another name, and let its images be encoded again.
                string aside = path + DamagedSuffix;
                try { File.Move(path, aside, overwrite: true); }
                catch (Exception) when (!File.Exists(path)) { }
                catch (Exception moveError) when (moveError is IOException or UnauthorizedAccessException) { aside = path; }
                _warn($"warning: feature cache segment {path} is unreadable ({e.Message}); kept as {aside}, its images are encoded again");
            }
        }
    }

    void MergeSmallSegments()
    {
        var small = _segments.Where(kv => kv.Value.Rows < SmallRows).ToList();
        if (small.Count < MergeAt) return;
        // Newest first, so that of two copies of an image the newest intact one is kept; damaged rows are dropped.
        var rows = new List<(ImageKey, float[])>();
        var seen = new HashSet<ImageKey>();
        long budget = FeatureSegment.MaxBytes / ((long)_dim * sizeof(float));
        var merged = new List<string>();
        foreach (var (name, segment) in Enumerable.Reverse(small))
        {
            if (rows.Count + segment.Rows > budget) break;
            foreach (var (key, row) in segment.Index)
            {
                if (seen.Contains(key)) continue;
                var features = new float[_dim];
                if (!segment.TryRead(row, features)) continue;
                seen.Add(key);
                rows.Add((key, features));
            }
            merged.Add(name);
        }
        if (merged.Count < 2) return;
        FeatureSegment.Write(NewSegmentPath(), rows, _dim, _metadata);
        foreach (var name in merged)
        {
            _segments[name].Dispose();
            _segments.Remove(name);
            try { File.Delete(Path.Combine(Directory, name)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* still mapped elsewhere (Windows): a later merge removes it */ }
        }
        Refresh();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var s in _segments.Values) s.Dispose();
            _segments.Clear();
        }
    }
}
