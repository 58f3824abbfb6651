using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Peft.Core;
using Peft.Host.Plugins;
using Peft.Tensors;
using static TorchSharp.torch;

/// <summary>
/// One cell of features (the layout of <c>peft data export-cell</c> or <c>bench_methods_official.py --make-cell</c>) and
/// our plugins fitted on it as the host fits them (through the method catalog), for the benchmarks that time a method
/// against its official code on the same cell. The text side is the cell's exported text embeddings
/// (<see cref="LookupText"/>), as the official side's stand-in.
/// </summary>
sealed class BenchCell : IDisposable
{
    readonly StateDict _tensors;
    readonly MethodCatalog _catalog = MethodCatalog.Load(includeBuiltIn: true);

    public BenchCell(string path)
    {
        _tensors = SafeTensorsFile.Read(path);
        var meta = SafeTensorsFile.ReadHeader(path).metadata;
        var classNames = JsonSerializer.Deserialize<string[]>(meta["classnames"])!;
        var templates = JsonSerializer.Deserialize<string[]>(meta["templates"])!;
        Task = new FewShotTask(meta["dataset"], classNames, templates, int.Parse(meta["shots"]), int.Parse(meta["seed"]));
        Lookup = new LookupText(_tensors["text_embeddings"].to(ScalarType.Float32), classNames, templates);
        Test = F("test_features");
    }

    public FewShotTask Task { get; }
    public LookupText Lookup { get; }
    public Tensor Test { get; }
    public Tensor TestLabels => _tensors["test_labels"];
    public long TrainRows => _tensors["train_labels"].shape[0];
    public long Views => _tensors["train_views"].shape[0];

    public Tensor F(string key) => _tensors[key].to(ScalarType.Float32);

    /// <summary>The host's context on this cell; the training (and validation) rows in the given order, or the first
    /// <paramref name="trainOrder"/> rows when it is a prefix.</summary>
    public AdaptationContext Context(TimingSink sink, long[]? trainOrder = null, long[]? valOrder = null, bool oracle = false)
    {
        Tensor Rows(Tensor t, long[]? order, int dim = 0) => order is null ? t : t.index_select(dim, tensor(order));
        var features = new InMemoryTaskFeatures(Rows(F("train_features"), trainOrder), Rows(_tensors["train_labels"], trainOrder),
            Rows(F("train_views"), trainOrder, 1), Rows(F("val_features"), valOrder), Rows(_tensors["val_labels"], valOrder));
        return new AdaptationContext
        {
            Task = Task, Features = features, TextEncoder = Lookup, Tokenizer = Lookup, Generator = new Generator(1),
            Metrics = sink, Oracle = oracle ? new Oracle(Test, TestLabels) : null,
        };
    }

    /// <summary>
    /// <see cref="Context"/> on the first <paramref name="rows"/> training rows (all when null) with a real text tower
    /// and CLIP's tokenizer instead of the lookup, for the prompt-learning methods; <paramref name="textEncoderIn"/> gives
    /// the tower in another compute type (<c>precision: bf16</c>).
    /// </summary>
    public AdaptationContext TowerContext(TimingSink sink, IFrozenTextEncoder tower, long? rows = null,
        Func<ScalarType, IFrozenTextEncoder>? textEncoderIn = null)
    {
        long[]? prefix = rows is { } n && n < TrainRows ? Enumerable.Range(0, (int)n).Select(i => (long)i).ToArray() : null;
        var c = Context(sink, prefix);
        return new AdaptationContext
        {
            Task = c.Task, Features = c.Features, TextEncoder = tower, Tokenizer = Peft.Clip.Text.ClipTokenizer.Default,
            Generator = c.Generator, Metrics = sink, TextEncoderIn = textEncoderIn,
        };
    }

    /// <summary>Steps per epoch of <paramref name="rows"/> rows at <paramref name="batch"/> (Dassl's drop_last rule:
    /// one short batch when there are fewer rows than a batch).</summary>
    public static long StepsPerEpoch(long rows, int batch) => rows >= batch ? rows / batch : 1;

    /// <summary>Fits <paramref name="method"/> with <paramref name="options"/> (configuration keys, as in an experiment
    /// file) and times it from the context's creation to the returned classifier; with <paramref name="accuracy"/>, also
    /// its accuracy on the cell's test set (not timed).</summary>
    public (double Seconds, TimingSink Sink, double? Accuracy) Fit(string method, Dictionary<string, string?> options,
        Func<TimingSink, AdaptationContext> context, bool accuracy = false)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(options).Build();
        var sink = new TimingSink();
        var ctx = context(sink);
        sink.Clock.Restart();
        using var classifier = _catalog.Get(method).Create(config).Fit(ctx);
        double seconds = sink.Clock.Elapsed.TotalSeconds;
        if (!accuracy) return (seconds, sink, null);
        using var scope = NewDisposeScope();
        return (seconds, sink, classifier.Logits(Test).argmax(1).eq(TestLabels).to(ScalarType.Float64).mean().item<double>());
    }

    public void Dispose()
    {
        _tensors.Dispose();
    }
}

/// <summary>Records the time of every metric a method logs (seconds since <see cref="Clock"/> was restarted).</summary>
sealed class TimingSink : IMetricSink
{
    public Stopwatch Clock { get; } = new();
    readonly List<(string Name, double Value, double Seconds)> _entries = [];
    public void Log(string name, double value, int step = 0) => _entries.Add((name, value, Clock.Elapsed.TotalSeconds));
    public double[] Times(string name) => _entries.Where(e => e.Name == name).Select(e => e.Seconds).ToArray();
    public double[] Values(string name) => _entries.Where(e => e.Name == name).Select(e => e.Value).ToArray();
    public double Value(string name) => _entries.Last(e => e.Name == name).Value;
}

sealed class Oracle(Tensor test, Tensor testLabels) : IOracleData
{
    public Tensor FullValFeatures() => throw new NotSupportedException("not used by the timed methods");
    public Tensor FullValLabels => throw new NotSupportedException("not used by the timed methods");
    public Tensor TestFeatures() => test;
    public Tensor TestLabels => testLabels;
}

/// <summary>
/// The cell's exported text features in place of a text tower: the "tokenizer" gives each (class, template) prompt of
/// the cell its row number, the "encoder" returns that row of <c>text_embeddings</c> [C, T, D] (unnormalised, as a
/// text tower returns them). Prompt learning (token embeddings) is not offered.
/// </summary>
sealed class LookupText : IFrozenTextEncoder, ITextTokenizer
{
    readonly Tensor _rows;
    readonly Dictionary<string, int> _index = [];

    public LookupText(Tensor embeddings, IReadOnlyList<string> classNames, IReadOnlyList<string> templates)
    {
        _rows = embeddings.reshape(-1, embeddings.shape[2]);
        for (int c = 0; c < classNames.Count; c++)
            for (int t = 0; t < templates.Count; t++)
                _index[PromptTemplates.Fill(templates[t], classNames[c])] = c * templates.Count + t;
        EmbedDim = (int)embeddings.shape[2];
    }

    public int ContextLength => 1;
    public int TextWidth => EmbedDim;
    public int EmbedDim { get; }
    public float LogitScale => 100f;
    public Tensor EncodeText(Tensor tokens) => _rows.index_select(0, tokens[.., 0]);
    public Tensor EmbedTokens(Tensor tokens) => throw new NotSupportedException("a lookup of the cell's text features");
    public Tensor EncodeTokenEmbeddings(Tensor embeddings, Tensor eotIndex) => throw new NotSupportedException("a lookup of the cell's text features");
    public int[] Encode(string text) => [_index[text]];
    public Tensor TokenizeToTensor(IReadOnlyList<string> texts, int contextLength, bool truncate = false) =>
        tensor(texts.Select(t => (long)_index[t]).ToArray()).unsqueeze(1);
}
