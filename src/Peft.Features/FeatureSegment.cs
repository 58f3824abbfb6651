using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Peft.Tensors;
using static TorchSharp.torch;

namespace Peft.Features;

/// <summary>
/// One immutable file of the packed feature cache: many images' features for one (backbone, transform, view), in the
/// safetensors format so that any safetensors reader opens it. Tensors: <c>image_sha256</c> U8 [N, 32] (the key),
/// <c>features</c> F32 [N, D] and <c>row_sha256</c> U8 [N, 32], the SHA-256 of each row's key and feature bytes
/// (little-endian), checked on every read so that a damaged row is recomputed, never used. Read through a memory
/// map: opening indexes the keys only; a row's floats are touched when it is read.
/// </summary>
public sealed unsafe class FeatureSegment : IDisposable
{
    public const string KeysName = "image_sha256", FeaturesName = "features", ChecksumsName = "row_sha256";
    /// <summary>Metadata: the layout's name and version (a reader refuses layouts it does not know).</summary>
    public const string FormatKey = "format", Format = "peft-feature-segment/1";

    /// <summary>Largest feature payload of one segment (what one array may hold; writers split larger sets).</summary>
    public const long MaxBytes = 1L << 30;

    readonly MemoryMappedFile _map;
    readonly MemoryMappedViewAccessor _view;
    readonly byte* _base;
    readonly long _keysAt, _featuresAt, _checksumsAt;
    readonly Dictionary<ImageKey, int> _index;

    public string Path { get; }
    public int Rows { get; }
    public int Dim { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    FeatureSegment(string path, FileStream stream, int dim)
    {
        Path = path;
        Dim = dim;
        var (entries, metadata, dataStart) = SafeTensorsFile.ReadHeader(stream, path);
        Metadata = metadata;
        if (!metadata.TryGetValue(FormatKey, out var format) || format != Format)
            throw new TensorFileException(path, $"not a feature segment of this version: metadata '{FormatKey}' is '{format ?? "(none)"}', expected '{Format}'", FormatKey);
        var keys = Find(entries, KeysName, ScalarType.Byte, ImageKey.Size);
        Rows = (int)keys.Shape[0];
        var features = Find(entries, FeaturesName, ScalarType.Float32, dim);
        var checksums = Find(entries, ChecksumsName, ScalarType.Byte, SHA256.HashSizeInBytes);
        if (features.Shape[0] != Rows || checksums.Shape[0] != Rows)
            throw new TensorFileException(path, $"'{FeaturesName}' has {features.Shape[0]} rows and '{ChecksumsName}' {checksums.Shape[0]}, '{KeysName}' {Rows}");
        (_keysAt, _featuresAt, _checksumsAt) = (dataStart + keys.Begin, dataStart + features.Begin, dataStart + checksums.Begin);

        _map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _base = pointer + _view.PointerOffset;

        _index = new Dictionary<ImageKey, int>(Rows);
        for (int r = 0; r < Rows; r++)
            _index.TryAdd(ImageKey.FromBytes(Span(_keysAt + (long)r * ImageKey.Size, ImageKey.Size)), r);
    }

    SafeTensorsFile.Entry Find(List<SafeTensorsFile.Entry> entries, string name, ScalarType type, int columns)
    {
        var e = entries.FirstOrDefault(x => x.Name == name)
                ?? throw new TensorFileException(Path, $"feature segment has no '{name}' tensor", name);
        if (e.DType != type || e.Shape.Length != 2 || e.Shape[1] != columns)
            throw new TensorFileException(Path, $"'{name}' is {e.DType} [{string.Join(", ", e.Shape)}], expected {type} [N, {columns}]", name);
        return e;
    }

    /// <summary>Opens and indexes a segment; throws <see cref="TensorFileException"/> (naming the file) when it is not one.</summary>
    public static FeatureSegment Open(string path, int dim)
    {
        // Delete is shared: a compaction in another process may remove the file while it is mapped here.
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        try { return new FeatureSegment(path, stream, dim); }
        catch { stream.Dispose(); throw; }
    }

    ReadOnlySpan<byte> Span(long offset, int length) => new(_base + offset, length);

    /// <summary>Each key and its row.</summary>
    public IReadOnlyDictionary<ImageKey, int> Index => _index;

    public bool TryFind(ImageKey key, out int row) => _index.TryGetValue(key, out row);

    /// <summary>Copies row <paramref name="row"/> into <paramref name="destination"/> if it matches its checksum.</summary>
    public bool TryRead(int row, Span<float> destination)
    {
        var key = Span(_keysAt + (long)row * ImageKey.Size, ImageKey.Size);
        var features = Span(_featuresAt + (long)row * Dim * sizeof(float), Dim * sizeof(float));
        Span<byte> checksum = stackalloc byte[SHA256.HashSizeInBytes];
        RowChecksum(key, features, checksum);
        if (!checksum.SequenceEqual(Span(_checksumsAt + (long)row * SHA256.HashSizeInBytes, SHA256.HashSizeInBytes)))
            return false;
        features.CopyTo(MemoryMarshal.AsBytes(destination));
        return true;
    }

    /// <summary>SHA-256 of key ‖ features, hashed in one call (one per row: no per-row hash object).</summary>
    static void RowChecksum(ReadOnlySpan<byte> key, ReadOnlySpan<byte> features, Span<byte> destination)
    {
        int length = key.Length + features.Length;
        Span<byte> row = length <= 16384 ? stackalloc byte[length] : new byte[length];
        key.CopyTo(row);
        features.CopyTo(row[key.Length..]);
        SHA256.HashData(row, destination);
    }

    /// <summary>Writes rows as a new segment at <paramref name="path"/> (atomically: readers see all of it or nothing).</summary>
    public static void Write(string path, IReadOnlyList<(ImageKey Key, float[] Features)> rows, int dim, IReadOnlyDictionary<string, string> metadata)
    {
        int n = rows.Count;
        if ((long)n * dim * sizeof(float) > MaxBytes)
            throw new ArgumentException($"{path}: {n} rows of {dim} features exceed a segment's {MaxBytes} bytes");
        var keys = new byte[(long)n * ImageKey.Size];
        var features = new byte[(long)n * dim * sizeof(float)];
        var checksums = new byte[(long)n * SHA256.HashSizeInBytes];
        for (int r = 0; r < n; r++)
        {
            var (key, row) = rows[r];
            if (row.Length != dim) throw new ArgumentException($"{path}: row {r} has {row.Length} features, the segment {dim}");
            var keyBytes = keys.AsSpan(r * ImageKey.Size, ImageKey.Size);
            key.WriteTo(keyBytes);
            var rowBytes = features.AsSpan(checked(r * dim * sizeof(float)), dim * sizeof(float));
            MemoryMarshal.AsBytes(row.AsSpan()).CopyTo(rowBytes); // little-endian on every platform .NET runs TorchSharp on
            RowChecksum(keyBytes, rowBytes, checksums.AsSpan(r * SHA256.HashSizeInBytes, SHA256.HashSizeInBytes));
        }
        var meta = new Dictionary<string, string>(metadata) { [FormatKey] = Format };
        SafeTensorsFile.WriteRaw(path,
        [
            new(KeysName, ScalarType.Byte, [n, ImageKey.Size], keys),
            new(FeaturesName, ScalarType.Float32, [n, dim], features),
            new(ChecksumsName, ScalarType.Byte, [n, SHA256.HashSizeInBytes], checksums),
        ], meta);
    }

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
