using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.IO;
using static TorchSharp.torch;

namespace Peft.Tensors;

/// <summary>
/// Reads and writes the safetensors format (8-byte little-endian header length, JSON header, raw data).
/// Every header field is checked against the file before any tensor is read, so a truncated or hostile file
/// fails with a message naming the file and the key instead of reading out of bounds.
/// </summary>
public static class SafeTensorsFile
{
    /// <summary>Header larger than this is rejected (the format's reference implementation uses 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public sealed record Entry(string Name, ScalarType DType, long[] Shape, long Begin, long End);

    static readonly Dictionary<string, (ScalarType type, int size)> DTypes = new()
    {
        ["F64"] = (ScalarType.Float64, 8), ["F32"] = (ScalarType.Float32, 4), ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2), ["I64"] = (ScalarType.Int64, 8), ["I32"] = (ScalarType.Int32, 4),
        ["I16"] = (ScalarType.Int16, 2), ["I8"] = (ScalarType.Int8, 1), ["U8"] = (ScalarType.Byte, 1),
        ["BOOL"] = (ScalarType.Bool, 1),
    };

    /// <summary>Parses and validates the header; returns the entries, the metadata and where the data starts.</summary>
    public static (List<Entry> entries, Dictionary<string, string> metadata, long dataStart) ReadHeader(string path)
    {
        using var stream = File.OpenRead(path);
        return ReadHeader(stream, path);
    }

    /// <summary>As <see cref="ReadHeader(string)"/> on an open stream (positioned at its start), for callers that then read the data themselves.</summary>
    public static (List<Entry> entries, Dictionary<string, string> metadata, long dataStart) ReadHeader(FileStream stream, string path)
    {
        long fileLength = stream.Length;
        if (fileLength < 8)
            throw new TensorFileException(path, $"not a safetensors file: {fileLength} bytes, too short for the 8-byte header length");
        Span<byte> lenBytes = stackalloc byte[8];
        stream.ReadExactly(lenBytes);
        ulong headerLength = BitConverter.ToUInt64(lenBytes);
        if (headerLength > (ulong)(fileLength - 8))
            throw new TensorFileException(path, $"safetensors header claims {headerLength} bytes but only {fileLength - 8} follow (truncated or corrupt file)");
        if (headerLength > MaxHeaderBytes)
            throw new TensorFileException(path, $"safetensors header of {headerLength} bytes exceeds the {MaxHeaderBytes}-byte limit");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        JsonObject header;
        try
        {
            header = JsonNode.Parse(headerBytes)?.AsObject() ?? throw new JsonException("header is null");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new TensorFileException(path, $"safetensors header is not a JSON object: {e.Message}", inner: e);
        }

        long dataStart = 8 + (long)headerLength, dataLength = fileLength - dataStart;
        var entries = new List<Entry>();
        var metadata = new Dictionary<string, string>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                if (node is JsonObject meta)
                    foreach (var (k, v) in meta) metadata[k] = v?.ToString() ?? "";
                continue;
            }
            try
            {
                var obj = node!.AsObject();
                string dtype = obj["dtype"]!.GetValue<string>();
                if (!DTypes.TryGetValue(dtype, out var dt))
                    throw new TensorFileException(path, $"tensor '{name}' has unsupported dtype '{dtype}' (supported: {string.Join(", ", DTypes.Keys)})", name);
                var shape = obj["shape"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
                var offsets = obj["data_offsets"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
                if (shape.Any(s => s < 0))
                    throw new TensorFileException(path, $"tensor '{name}' has a negative dimension in shape [{string.Join(", ", shape)}]", name);
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength)
                    throw new TensorFileException(path, $"tensor '{name}' has data_offsets [{string.Join(", ", offsets)}] outside the {dataLength}-byte data section", name);
                long expected = shape.Aggregate(1L, (a, b) => checked(a * b)) * dt.size;
                if (offsets[1] - offsets[0] != expected)
                    throw new TensorFileException(path, $"tensor '{name}' spans {offsets[1] - offsets[0]} bytes but {dtype} [{string.Join(", ", shape)}] needs {expected}", name);
                entries.Add(new Entry(name, dt.type, shape, offsets[0], offsets[1]));
            }
            catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException or OverflowException)
            {
                throw new TensorFileException(path, $"tensor '{name}' has a malformed header entry ({e.Message})", name, e);
            }
        }
        return (entries, metadata, dataStart);
    }

    /// <summary>Reads all tensors (or those <paramref name="keep"/> accepts) into CPU tensors of their stored dtype.</summary>
    public static StateDict Read(string path, Func<string, bool>? keep = null)
    {
        using var stream = File.OpenRead(path);
        var (entries, _, dataStart) = ReadHeader(stream, path);
        var result = new StateDict(path);
        try
        {
            foreach (var e in entries.OrderBy(e => e.Begin))
            {
                if (keep is not null && !keep(e.Name)) continue;
                var t = empty(e.Shape, e.DType);
                if (e.End > e.Begin)
                {
                    stream.Seek(dataStart + e.Begin, SeekOrigin.Begin);
                    t.ReadBytesFromStream(stream);
                }
                result.Add(e.Name, t);
            }
        }
        catch
        {
            result.Dispose();
            throw;
        }
        return result;
    }

    /// <summary>
    /// Writes tensors (any device/layout; stored contiguous, CPU) with optional string metadata, atomically
    /// (<see cref="AtomicFile"/>): a crash never leaves a half-written file under the final name.
    /// </summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var items = tensors.Select(kv => (kv.Key, Tensor: kv.Value.detach().cpu().contiguous())).ToList();
        try
        {
            var header = Header(items.Select(i => (i.Key, i.Tensor.dtype, i.Tensor.shape)), metadata);
            // Readers (and concurrent writers of the same target) see the old file or the whole new one.
            AtomicFile.Replace(path, stream =>
            {
                stream.Write(header);
                foreach (var (_, t) in items)
                    if (t.NumberOfElements > 0) t.WriteBytesToStream(stream);
            });
        }
        finally
        {
            foreach (var (_, t) in items) t.Dispose();
        }
    }

    /// <summary>A tensor given as its raw little-endian bytes, for writers that hold no TorchSharp tensors.</summary>
    public sealed record RawEntry(string Name, ScalarType DType, long[] Shape, ReadOnlyMemory<byte> Data);

    /// <summary>As <see cref="Write"/>, from raw bytes (checked against each entry's dtype and shape), atomically.</summary>
    public static void WriteRaw(string path, IReadOnlyList<RawEntry> entries, IReadOnlyDictionary<string, string>? metadata = null)
    {
        foreach (var e in entries)
        {
            long expected = e.Shape.Aggregate(1L, (a, b) => a * b) * DTypes.First(d => d.Value.type == e.DType).Value.size;
            if (e.Data.Length != expected)
                throw new ArgumentException($"{path}: tensor '{e.Name}' has {e.Data.Length} bytes, its dtype and shape need {expected}");
        }
        var header = Header(entries.Select(e => (e.Name, e.DType, e.Shape)), metadata);
        AtomicFile.Replace(path, stream =>
        {
            stream.Write(header);
            foreach (var e in entries) stream.Write(e.Data.Span);
        });
    }

    /// <summary>The 8-byte header length and the JSON header (data laid out in the given order), padded to 8 bytes.</summary>
    static byte[] Header(IEnumerable<(string name, ScalarType type, long[] shape)> items, IReadOnlyDictionary<string, string>? metadata)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        foreach (var (name, type, shape) in items)
        {
            var code = DTypes.First(d => d.Value.type == type).Key;
            long bytes = shape.Aggregate(1L, (a, b) => a * b) * DTypes[code].size;
            header[name] = new JsonObject
            {
                ["dtype"] = code,
                ["shape"] = new JsonArray(shape.Select(s => (JsonNode)JsonValue.Create(s)).ToArray()),
                ["data_offsets"] = new JsonArray(JsonValue.Create(offset), JsonValue.Create(offset + bytes)),
            };
            offset += bytes;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int pad = (8 - json.Length % 8) % 8; // the format pads the header with spaces to an 8-byte boundary
        var result = new byte[8 + json.Length + pad];
        BitConverter.TryWriteBytes(result.AsSpan(0, 8), (ulong)(json.Length + pad));
        json.CopyTo(result, 8);
        for (int i = 8 + json.Length; i < result.Length; i++) result[i] = (byte)' ';
        return result;
    }
}
