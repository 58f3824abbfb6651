using static TorchSharp.torch;

namespace Peft.Tensors;

/// <summary>Named tensors read from a checkpoint, in file order; owns (and disposes) its tensors.</summary>
public sealed class StateDict : IDisposable
{
    readonly List<string> _order = [];
    readonly Dictionary<string, Tensor> _tensors = new(StringComparer.Ordinal);

    /// <summary>Where the tensors came from, for error messages.</summary>
    public string Source { get; }
    public StateDict(string source) => Source = source;

    public int Count => _order.Count;
    public IEnumerable<string> Keys => _order;
    public bool Contains(string key) => _tensors.ContainsKey(key);
    public Tensor this[string key] => _tensors[key];
    public bool TryGet(string key, out Tensor tensor) => _tensors.TryGetValue(key, out tensor!);

    public void Add(string key, Tensor tensor)
    {
        if (!_tensors.TryAdd(key, tensor))
            throw new InvalidDataException($"{Source}: duplicate key '{key}'");
        _order.Add(key);
    }

    public IReadOnlyDictionary<string, long[]> Shapes() => _order.ToDictionary(k => k, k => _tensors[k].shape);

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
        _order.Clear();
    }
}
