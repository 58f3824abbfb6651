using System.Text.Json;
using Peft.Clip.Loading;
using Peft.Clip.Text;
using Peft.Core;
using Peft.Tests.Cli;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Tests.Methods;

/// <summary>
/// One of the cells in Fixtures/official (exported from the quickstart by <c>peft data export-cell</c>, features in fp16)
/// as the runner gives it to a method (float32 features), with rows optionally reordered; plus what the tests that
/// compare our methods with the official implementations on these cells share.
/// </summary>
sealed class OfficialCell : IDisposable
{
    public static readonly string FixtureDir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "official");

    readonly StateDict _tensors;
    public FewShotTask Task { get; }
    public Tensor TextWeights => _tensors["text_weights"];

    public OfficialCell(string file)
    {
        var path = Path.Combine(FixtureDir, file);
        _tensors = SafeTensorsFile.Read(path);
        var meta = SafeTensorsFile.ReadHeader(path).metadata;
        Task = new FewShotTask(meta["dataset"], JsonSerializer.Deserialize<string[]>(meta["classnames"])!,
            JsonSerializer.Deserialize<string[]>(meta["templates"])!, int.Parse(meta["shots"]), int.Parse(meta["seed"]));
    }

    public Tensor F(string key) => _tensors[key].to(ScalarType.Float32);
    public Tensor L(string key) => _tensors[key];
    public bool Has(string key) => _tensors.Contains(key);

    public AdaptationContext Context(LoadedClip clip, IMetricSink metrics, long[]? trainOrder = null, long[]? valOrder = null, long seed = 1)
    {
        Tensor Rows(Tensor t, long[]? order, int dim = 0) => order is null ? t : t.index_select(dim, tensor(order));
        var features = new InMemoryTaskFeatures(Rows(F("train_features"), trainOrder), Rows(L("train_labels"), trainOrder),
            Rows(F("train_views"), trainOrder, 1), Rows(F("val_features"), valOrder), Rows(L("val_labels"), valOrder));
        return new AdaptationContext
        {
            Task = Task, Features = features, TextEncoder = clip.Model, Tokenizer = ClipTokenizer.Default,
            Generator = new Generator((ulong)seed), Metrics = metrics,
        };
    }

    public long[] Predict(IFeatureClassifier classifier)
    {
        using var noGrad = no_grad();
        return classifier.Logits(F("test_features")).argmax(1).data<long>().ToArray();
    }

    public void Dispose() => _tensors.Dispose();

    /// <summary>A JSON fixture of Fixtures/official (side_by_side.json, or one method's file).</summary>
    public static JsonElement ReadFixture(string name) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureDir, name))).RootElement;

    /// <summary>The shipped tiny CLIP whose features the cells hold.</summary>
    public static LoadedClip TinyClip() =>
        ClipLoader.Load(Path.Combine(PeftProcess.Repository, "data", "models", "tiny-clip.safetensors"));

    /// <summary>The entry of a fixture's <c>cells</c> that was made from cell file <paramref name="file"/>.</summary>
    public static JsonElement CellOf(JsonElement fixture, string file) =>
        fixture.GetProperty("cells").EnumerateArray().Single(c => c.GetProperty("file").GetString() == file);

    public static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    public static long[] Longs(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt64()).ToArray();

    public static int Differences(long[] a, long[] b) => a.Zip(b).Count(p => p.First != p.Second);

    public static double Accuracy(long[] predictions, Tensor labels) =>
        100.0 * predictions.Zip(labels.data<long>().ToArray()).Count(p => p.First == p.Second) / predictions.Length;
}

/// <summary>Every metric a method logs, in order.</summary>
sealed class RecordingSink : IMetricSink
{
    public List<(string Name, double Value, int Step)> Entries { get; } = [];
    public void Log(string name, double value, int step = 0) => Entries.Add((name, value, step));
    public double[] Values(string name) => Entries.Where(e => e.Name == name).Select(e => e.Value).ToArray();
    public double[] Series(string name) => Entries.Where(e => e.Name == name).OrderBy(e => e.Step).Select(e => e.Value).ToArray();
    public IReadOnlyDictionary<string, double> Last => Entries.GroupBy(e => e.Name).ToDictionary(g => g.Key, g => g.Last().Value);
}
