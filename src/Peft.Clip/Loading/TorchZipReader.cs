using System.Collections;
using System.IO.Compression;
using Peft.Clip.Model;
using Razorvine.Pickle;
using Razorvine.Pickle.Objects;
using static TorchSharp.torch;

namespace Peft.Clip.Loading;

/// <summary>
/// Reads state dicts saved with <c>torch.save</c> (the zip format of PyTorch ≥ 1.6): <c>data.pkl</c> is
/// unpickled with tensors replaced by descriptors, then each tensor is rebuilt from its storage file with its
/// own offset, shape and stride (so views into shared storages come out right). Nested checkpoints
/// (<c>{"state_dict": ...}</c>, <c>{"model": ...}</c>) are unwrapped by the caller.
/// </summary>
public static class TorchZipReader
{
    sealed record StorageRef(string Key, ScalarType DType, long Numel);
    sealed record TensorRef(StorageRef Storage, long Offset, long[] Shape, long[] Stride);

    /// <summary>OrderedDict as pickled by PyTorch (SETITEMS, then a BUILD with <c>_metadata</c>, ignored).</summary>
    sealed class PickledOrderedDict : Hashtable
    {
        public void __setstate__(Hashtable state) { }
    }

    sealed class OrderedDictConstructor : IObjectConstructor
    {
        public object construct(object[] args) => new PickledOrderedDict();
    }

    sealed class RebuildTensorConstructor : IObjectConstructor
    {
        public object construct(object[] args)
        {
            var storage = (StorageRef)args[0];
            return new TensorRef(storage, ToLong(args[1]), ToLongs(args[2]), ToLongs(args[3]));
        }
    }

    /// <summary><c>_rebuild_parameter(data, requires_grad, hooks)</c>: a Parameter is its data here.</summary>
    sealed class RebuildParameterConstructor : IObjectConstructor
    {
        public object construct(object[] args) => args[0];
    }

    static long ToLong(object o) => Convert.ToInt64(o);
    static long[] ToLongs(object o) => ((IEnumerable)o).Cast<object>().Select(ToLong).ToArray();

    static TorchZipReader()
    {
        Unpickler.registerConstructor("collections", "OrderedDict", new OrderedDictConstructor());
        Unpickler.registerConstructor("torch._utils", "_rebuild_tensor", new RebuildTensorConstructor());
        Unpickler.registerConstructor("torch._utils", "_rebuild_tensor_v2", new RebuildTensorConstructor());
        Unpickler.registerConstructor("torch._utils", "_rebuild_parameter", new RebuildParameterConstructor());
    }

    sealed class TorchUnpickler : Unpickler
    {
        protected override object persistentLoad(object pid)
        {
            var t = (object[])pid;
            if (t.Length < 5 || t[0] as string != "storage")
                throw new InvalidDataException("unknown persistent id in data.pkl");
            string storageType = t[1] is ClassDictConstructor c ? c.name : t[1]?.ToString() ?? "";
            return new StorageRef((string)t[2], StorageDType(storageType), ToLong(t[4]));
        }
    }

    static ScalarType StorageDType(string name) => name switch
    {
        "DoubleStorage" => ScalarType.Float64, "FloatStorage" => ScalarType.Float32, "HalfStorage" => ScalarType.Float16,
        "BFloat16Storage" => ScalarType.BFloat16, "LongStorage" => ScalarType.Int64, "IntStorage" => ScalarType.Int32,
        "ShortStorage" => ScalarType.Int16, "CharStorage" => ScalarType.Int8, "ByteStorage" => ScalarType.Byte,
        "BoolStorage" => ScalarType.Bool,
        _ => throw new InvalidDataException($"unsupported storage type '{name}'"),
    };

    /// <summary>True when the file starts with a zip signature (torch.save since 1.6, and TorchScript archives).</summary>
    public static bool IsZip(string path)
    {
        using var s = File.OpenRead(path);
        Span<byte> sig = stackalloc byte[4];
        return s.Read(sig) == 4 && sig[0] == 0x50 && sig[1] == 0x4b && sig[2] == 0x03 && sig[3] == 0x04;
    }

    /// <summary>True for a TorchScript archive (it has compiled code next to its data).</summary>
    public static bool IsTorchScript(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        return zip.Entries.Any(e => e.FullName.Contains("/code/", StringComparison.Ordinal) || e.Name == "constants.pkl");
    }

    /// <summary>
    /// Unpickles <c>data.pkl</c> and returns the top-level object with every tensor materialised: a dictionary
    /// maps to <see cref="Dictionary{TKey,TValue}"/> (string → object), tensors to <see cref="Tensor"/>.
    /// </summary>
    public static object Read(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var pkl = zip.Entries.FirstOrDefault(e => e.Name == "data.pkl" && e.FullName.Count(ch => ch == '/') == 1)
                  ?? throw new ClipCheckpointException(path, "zip archive has no <name>/data.pkl: not a torch.save file");
        object root;
        try
        {
            using var unpickler = new TorchUnpickler();
            using var stream = pkl.Open();
            root = unpickler.load(stream);
        }
        catch (Exception e) when (e is PickleException or InvalidDataException or InvalidCastException or NotImplementedException)
        {
            throw new ClipCheckpointException(path, $"cannot unpickle data.pkl: {e.Message}", inner: e);
        }
        string prefix = pkl.FullName[..(pkl.FullName.IndexOf('/') + 1)];
        var storages = new Dictionary<string, Tensor>();
        try
        {
            return Materialise(root, zip, prefix, storages, path);
        }
        finally
        {
            foreach (var s in storages.Values) s.Dispose();
        }
    }

    static object Materialise(object node, ZipArchive zip, string prefix, Dictionary<string, Tensor> storages, string path)
    {
        switch (node)
        {
            case TensorRef t:
                if (!storages.TryGetValue(t.Storage.Key, out var storage))
                {
                    var entry = zip.GetEntry($"{prefix}data/{t.Storage.Key}")
                                ?? throw new ClipCheckpointException(path, $"storage file data/{t.Storage.Key} is missing from the archive");
                    long bytes = t.Storage.Numel * ElementSize(t.Storage.DType);
                    if (entry.Length < bytes)
                        throw new ClipCheckpointException(path, $"storage data/{t.Storage.Key} has {entry.Length} bytes, expected {bytes} (truncated file)");
                    storage = empty(t.Storage.Numel, t.Storage.DType);
                    using (var s = entry.Open()) storage.ReadBytesFromStream(s);
                    storages[t.Storage.Key] = storage;
                }
                long last = t.Offset + t.Shape.Zip(t.Stride, (n, st) => n == 0 ? 0 : (n - 1) * st).Sum();
                if (t.Shape.All(n => n > 0) && last >= t.Storage.Numel)
                    throw new ClipCheckpointException(path, $"a tensor view reaches element {last} of a {t.Storage.Numel}-element storage");
                using (var view = storage.as_strided(t.Shape, t.Stride, t.Offset))
                    return view.contiguous().clone();
            case IDictionary d:
                var result = new Dictionary<string, object>(StringComparer.Ordinal);
                foreach (DictionaryEntry kv in d)
                    result[kv.Key?.ToString() ?? ""] = Materialise(kv.Value!, zip, prefix, storages, path);
                return result;
            default:
                return node;
        }
    }

    static long ElementSize(ScalarType t) => t switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };
}
