using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Peft.Clip.Model;
using Peft.Clip.Text;
using Peft.Tests.Host;
using Peft.Core;
using Peft.Core.Prompting;
using Peft.Host.Plugins;
using Peft.Methods.CoOp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

public class CoOpTests(ITestOutputHelper output)
{
    const int Sos = ClipTokenizer.StartOfText, Eot = ClipTokenizer.EndOfText;

    static Tensor Row(IFrozenTextEncoder encoder, int id) => encoder.EmbedTokens(tensor(new long[,] { { id } }))[0, 0];

    static void Same(Tensor expected, Tensor actual, string what) =>
        Assert.True(expected.to(ScalarType.Float32).allclose(actual.to(ScalarType.Float32), 1e-6, 1e-7), what);

    [Theory]
    [InlineData("end")]
    [InlineData("middle")]
    [InlineData("front")]
    public void PromptAssemblyPlacesContextClassAndMarkers(string position)
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var encoder = support.Clip.Model;
        var tokenizer = ClipTokenizer.Default;
        string[] classes = ["cat", "red_circle"];
        const int m = 4;
        using var learner = new PromptLearner(encoder, tokenizer, classes,
            new CoOpOptions { NCtx = m, ClassTokenPosition = position }, new Generator(5), truncate: false);
        Assert.Equal(77, learner.SequenceLength);
        var prompts = learner.Assemble(0, classes.Length);
        Assert.Equal(new long[] { 2, 77, encoder.TextWidth }, prompts.shape);
        int dot = tokenizer.Encode(".").Single();
        for (int c = 0; c < classes.Length; c++)
        {
            var name = tokenizer.Encode(classes[c].Replace("_", " "));
            Assert.Equal(name.Length, learner.NameLengths[c]);
            Assert.Equal(classes[c] == "cat" ? 1 : 2, name.Length);
            int n = name.Length, half = m / 2;
            // Layout: output position → ("ctx", j) or ("tok", id).
            var layout = new List<(bool Ctx, int Value)> { (false, Sos) };
            var ctxRows = Enumerable.Range(0, m).Select(j => (true, j)).ToList();
            var classRows = name.Select(id => (false, id)).ToList();
            switch (position)
            {
                case "end": layout.AddRange(ctxRows); layout.AddRange(classRows); break;
                case "middle": layout.AddRange(ctxRows.Take(half)); layout.AddRange(classRows); layout.AddRange(ctxRows.Skip(half)); break;
                default: layout.AddRange(classRows); layout.AddRange(ctxRows); break;
            }
            layout.Add((false, dot));
            layout.Add((false, Eot));
            Assert.Equal(layout.Count - 1, learner.EotIndex[c].item<long>());
            Assert.Equal(Eot, learner.Tokens[c, layout.Count - 1].item<long>());
            for (int p = 0; p < layout.Count; p++)
            {
                var expected = layout[p].Ctx ? learner.Ctx[layout[p].Value] : Row(encoder, layout[p].Value);
                Same(expected, prompts[c, p], $"{position} class {c} position {p}");
            }
            // Padding after EOT is the embedding of token 0, and no row after the prompt is a context vector.
            Same(Row(encoder, 0), prompts[c, 76], "padding");
            Assert.False(prompts[c, layout.Count].allclose(learner.Ctx[0]));
        }
    }

    [Theory]
    [InlineData("end", false)]
    [InlineData("middle", true)]
    [InlineData("front", false)]
    public void TruncationAndClassChunksDoNotChangeLogitsOrTheStep(string position, bool csc)
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        string[] classes = ["cat", "dog", "red circle", "a long class name with many words", "tree"];
        var options = new CoOpOptions { NCtx = 6, ClassTokenPosition = position, ClassSpecificContext = csc };
        using var full = new PromptLearner(support.Clip.Model, ClipTokenizer.Default, classes, options with { ClassChunk = 64 }, new Generator(9), truncate: false);
        using var cut = new PromptLearner(support.Clip.Model, ClipTokenizer.Default, classes, options with { ClassChunk = 2 }, new Generator(9), truncate: true);
        Assert.True(cut.SequenceLength < 20, $"truncated length {cut.SequenceLength}");
        Assert.Equal(cut.EotIndex.max().item<long>() + 1, cut.SequenceLength);
        Same(full.Ctx, cut.Ctx, "same initial context");
        var initial = full.Ctx.detach().clone();

        var images = nn.functional.normalize(randn([8, support.Clip.Model.EmbedDim], generator: new Generator(2)), dim: -1);
        var labels = tensor(new long[] { 0, 1, 2, 3, 4, 0, 1, 2 });
        var logitsFull = images.matmul(full.TextFeatures(64).t());
        var logitsCut = images.matmul(cut.TextFeatures(2).t());
        Assert.True(logitsFull.allclose(logitsCut, 1e-5, 1e-5), $"max diff {(logitsFull - logitsCut).abs().max().item<float>()}");

        using var trainFull = new PromptTrainer(full, options with { ClassChunk = 64 }, PromptTrainer.CrossEntropy(100f));
        using var trainCut = new PromptTrainer(cut, options with { ClassChunk = 2 }, PromptTrainer.CrossEntropy(100f));
        for (int s = 0; s < 2; s++)
        {
            double lossFull = trainFull.Step(images, labels, 0.002), lossCut = trainCut.Step(images, labels, 0.002);
            Assert.Equal(lossFull, lossCut, 4);
        }
        Assert.False(full.Ctx.allclose(initial, 1e-7, 1e-9), "context moved");
        Assert.True(full.Ctx.allclose(cut.Ctx, 1e-5, 1e-6), $"max diff {(full.Ctx - cut.Ctx).abs().max().item<float>()}");
    }

    [Fact]
    public void InitFromPhraseCopiesItsTokenEmbeddings()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var tokenizer = ClipTokenizer.Default;
        using var learner = new PromptLearner(support.Clip.Model, tokenizer, ["cat", "dog"],
            new CoOpOptions { CtxInit = "a_photo of a", NCtx = 16 }, new Generator(1));
        Assert.Equal(4, learner.NCtx);
        Assert.Equal(new long[] { 4, support.Clip.Model.TextWidth }, learner.Ctx.shape);
        var ids = tokenizer.Encode("a photo of a");
        Assert.Equal(4, ids.Length);
        for (int j = 0; j < 4; j++) Same(Row(support.Clip.Model, ids[j]), learner.Ctx[j], $"context {j}");
        Assert.NotEqual(ids[0], ids[1]);
        // The prompts are "{phrase} {class}.", so the frozen suffix starts at the class name.
        Assert.Equal(tokenizer.Encode("cat").Single(), learner.Tokens[0, 5].item<long>());
        Assert.Equal(ids[1], learner.Tokens[1, 2].item<long>());
    }

    [Fact]
    public void ClassSpecificContextShapesAndParameterCount()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var w = support.Clip.Model.TextWidth;
        string[] classes = ["cat", "dog", "bird"];
        using var csc = new PromptLearner(support.Clip.Model, ClipTokenizer.Default, classes,
            new CoOpOptions { NCtx = 3, ClassSpecificContext = true }, new Generator(1));
        Assert.Equal(new long[] { 3, 3, w }, csc.Ctx.shape);
        var prompts = csc.Assemble(1, 2);
        Same(csc.Ctx[1, 2], prompts[0, 3], "class 1 uses its own context");
        Same(csc.Ctx[2, 0], prompts[1, 1], "class 2 uses its own context");
        Assert.False(csc.Ctx[1].allclose(csc.Ctx[2]));

        // A phrase with CSC initialises every class's context from it (the official code would silently share it).
        using var phrase = new PromptLearner(support.Clip.Model, ClipTokenizer.Default, classes,
            new CoOpOptions { CtxInit = "a photo of a", ClassSpecificContext = true }, new Generator(1));
        Assert.Equal(new long[] { 3, 4, w }, phrase.Ctx.shape);
        Same(phrase.Ctx[0], phrase.Ctx[2], "same phrase for every class");
        Same(Row(support.Clip.Model, ClipTokenizer.Default.Encode("photo").Single()), phrase.Ctx[1, 1], "phrase token");

        var context = support.Context(classes, shots: 1);
        var options = new CoOpOptions { NCtx = 3, ClassSpecificContext = true, Epochs = 1, TrainViews = 2 };
        using var classifier = new CoOpMethod(options).Fit(context);
        Assert.Equal(3L * 3 * w, classifier.TrainableParameters);
        Assert.Equal(new long[] { 3, 3, w }, classifier.Weights["ctx"].shape);
        using var shared = new CoOpMethod(options with { ClassSpecificContext = false }).Fit(support.Context(classes, shots: 1));
        Assert.Equal(3L * w, shared.TrainableParameters);
        Assert.Equal(new long[] { 3, support.Clip.Model.EmbedDim }, shared.Weights["text_features"].shape);
    }

    [Fact]
    public void LearningRateScheduleAndEpochsPerShot()
    {
        var o = new CoOpOptions();
        Assert.Equal(1e-5, Schedule.LearningRate(0, 200, o));
        Assert.Equal(0.002, Schedule.LearningRate(1, 200, o), 12);
        Assert.Equal(0.001, Schedule.LearningRate(101, 200, o), 12);
        Assert.Equal(0.001 * (1 + Math.Cos(Math.PI * 198 / 200)), Schedule.LearningRate(199, 200, o), 12);
        Assert.Equal(0.0005 * (1 + Math.Cos(Math.PI * 47 / 50)), Schedule.LearningRate(49, 50, o with { Lr = 0.001, WarmupEpochs = 2 }), 12);
        Assert.Equal(0.002, Schedule.LearningRate(0, 10, o with { WarmupEpochs = 0 }), 12);
        Assert.Equal([50, 100, 100, 200, 200], new[] { 1, 2, 4, 8, 16 }.Select(o.EpochsFor));
        Assert.Equal(7, (o with { Epochs = 7 }).EpochsFor(16));

        // Fit applies it once per epoch and logs it.
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var sink = new RecordingSink();
        var context = support.Context(["cat", "dog"], shots: 1);
        context = new AdaptationContext
        {
            Task = context.Task, Features = context.Features, TextEncoder = context.TextEncoder, Tokenizer = context.Tokenizer,
            Generator = context.Generator, Metrics = sink,
        };
        using var _ = new CoOpMethod(o with { NCtx = 2, Epochs = 4, TrainViews = 2 }).Fit(context);
        Assert.Equal(Enumerable.Range(0, 4).Select(e => Schedule.LearningRate(e, 4, o)), sink.Series("lr"));
        Assert.Equal(4, sink.Series("train_loss").Length);
    }

    [Fact]
    public void GradientsReachOnlyTheContext()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var model = support.Clip.Model;
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        using var learner = new PromptLearner(model, ClipTokenizer.Default, ["cat", "dog", "bird"],
            new CoOpOptions { NCtx = 4, ClassTokenPosition = "middle" }, new Generator(3));
        var features = learner.Encode(0, 3);
        Assert.True(features.requires_grad);
        (features * randn(features.shape, generator: new Generator(4))).sum().backward();
        Assert.True(learner.Ctx.grad!.abs().sum().item<float>() > 0, "context gets a gradient");
        Assert.All(model.parameters(), p => Assert.True(p.grad is null && !p.requires_grad));

        var context = support.Context(["cat", "dog", "bird"], shots: 2);
        using var classifier = new CoOpMethod(new CoOpOptions { NCtx = 4, Epochs = 2, TrainViews = 2 }).Fit(context);
        foreach (var (p, b) in model.parameters().Zip(before)) Assert.True(p.allclose(b, 0, 0), "frozen CLIP weights unchanged");
    }

    /// <summary>
    /// A random CLIP whose text features depend on the prompt (LayerNorms at identity, matrices scaled by 1/√fan-in,
    /// exp(logit_scale) = 100 as in the released models). The all-0.1·randn test CLIP gives text features that are
    /// almost the same for every class (cosine 0.9997), on which nothing can be learned.
    /// </summary>
    static ClipModel WellConditionedClip(ClipConfig? config = null)
    {
        var model = new ClipModel(config ?? RandomClip.SmallViT);
        var g = new Generator(1);
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            if (name.Contains("ln_") && name.EndsWith("weight")) p.fill_(1);
            else if (name.Contains("ln_") && name.EndsWith("bias")) p.zero_();
            else if (name == "logit_scale") p.fill_(MathF.Log(100));
            else if (p.dim() == 2 && name is not ("token_embedding.weight" or "positional_embedding"))
                p.copy_(randn(p.shape, generator: g) / MathF.Sqrt(p.shape[0]));
            else p.copy_(randn(p.shape, generator: g) * 0.1);
        }
        return model;
    }

    /// <summary>
    /// A task CoOp can solve: images of class c lie around the text feature of class c under a hidden context
    /// (std 1, far from the 0.02 initialisation), plus noise; training, validation and views are separate draws.
    /// </summary>
    static AdaptationContext Learnable(ClipModel model, string[] classes, int shots, int views, IMetricSink sink, ulong seed)
    {
        var g = new Generator(7);
        using var hidden = new PromptLearner(model, ClipTokenizer.Default, classes, new CoOpOptions { NCtx = 4 }, new Generator(99));
        using (no_grad()) hidden.Ctx.mul_(50);
        var centres = hidden.TextFeatures(64);
        int d = model.EmbedDim, n = classes.Length * shots;
        var labels = arange(classes.Length, dtype: ScalarType.Int64).repeat_interleave(shots);
        Tensor Sample() => centres.index_select(0, labels) + 0.05f * randn([n, d], generator: g);
        var viewTensor = stack(Enumerable.Range(0, views).Select(_ => Sample()).ToArray());
        var features = new InMemoryTaskFeatures(Sample(), labels, viewTensor, Sample(), labels);
        return new AdaptationContext
        {
            Task = new FewShotTask("learnable", classes, ["a photo of a {}."], shots, 1),
            Features = features, TextEncoder = model, Tokenizer = ClipTokenizer.Default,
            Generator = new Generator(seed), Metrics = sink,
        };
    }

    [Fact]
    public void LossDecreasesOnALearnableTask()
    {
        using var scope = NewDisposeScope();
        using var model = WellConditionedClip();
        var sink = new RecordingSink();
        string[] classes = ["cat", "dog", "bird", "fish"];
        var context = Learnable(model, classes, shots: 8, views: 3, sink, seed: 11);
        // Official lr, momentum, weight decay and warm-up; fewer epochs and a smaller batch than the defaults.
        var options = new CoOpOptions { NCtx = 4, Epochs = 30, BatchSize = 8, TrainViews = 3, ClassChunk = 3 };
        using var classifier = new CoOpMethod(options).Fit(context);
        var losses = sink.Series("train_loss");
        output.WriteLine(string.Join(" ", losses.Select(l => l.ToString("F3"))));
        Assert.True(losses[^1] < 0.7 * losses[0], $"loss {losses[0]:F3} → {losses[^1]:F3}");
        using var untrained = new CoOpMethod(options with { Epochs = 1 }).Fit(Learnable(model, classes, 8, 3, new RecordingSink(), 11));
        double acc0 = untrained.Logits(context.Features.ValFeatures()).argmax(-1).eq(context.Features.ValLabels).to(ScalarType.Float32).mean().item<float>();
        output.WriteLine($"accuracy after the warm-up epoch only {acc0:F3}");
        var pred = classifier.Logits(context.Features.ValFeatures()).argmax(-1);
        double acc = pred.eq(context.Features.ValLabels).to(ScalarType.Float32).mean().item<float>();
        output.WriteLine($"val accuracy {acc:F3}");
        Assert.True(acc >= 0.9 && acc > acc0, $"accuracy {acc0} → {acc}");
    }

    [Fact]
    public void Bf16TrainsThroughABf16CopyOfTheTowerWithAnFp32Context()
    {
        using var scope = NewDisposeScope();
        using var model = WellConditionedClip();
        using var bf16 = WellConditionedClip().UseComputeType(ScalarType.BFloat16);
        string[] classes = ["cat", "dog", "bird", "fish"];
        var options = new CoOpOptions { NCtx = 4, Epochs = 30, BatchSize = 8, TrainViews = 3, ClassChunk = 3 };
        AdaptationContext Context(IMetricSink sink, bool withCopy = true)
        {
            var c = Learnable(model, classes, shots: 8, views: 3, sink, seed: 11);
            return new AdaptationContext
            {
                Task = c.Task, Features = c.Features, TextEncoder = c.TextEncoder, Tokenizer = c.Tokenizer, Generator = c.Generator,
                Metrics = sink, TextEncoderIn = withCopy ? t => t == ScalarType.BFloat16 ? bf16 : throw new ArgumentException($"{t}") : null,
            };
        }
        var (sink32, sink16) = (new RecordingSink(), new RecordingSink());
        using var fp32 = new CoOpMethod(options).Fit(Context(sink32));
        using var mixed = new CoOpMethod(options with { Precision = "bf16" }).Fit(Context(sink16));

        var (ctx32, ctx16) = (fp32.Weights["ctx"], mixed.Weights["ctx"]);
        Assert.Equal(ScalarType.Float32, ctx16.dtype);   // master weights in fp32
        double difference = (ctx16 - ctx32).norm().item<float>() / ctx32.norm().item<float>();
        var (losses32, losses16) = (sink32.Series("train_loss"), sink16.Series("train_loss"));
        output.WriteLine($"ctx relative difference {difference:E2}; final loss fp32 {losses32[^1]:F4}, bf16 {losses16[^1]:F4}");
        Assert.True(difference > 1e-4, "the bf16 run computed exactly as the fp32 one: the copy was not used");
        Assert.True(difference < 0.1, $"ctx relative difference {difference}");
        Assert.True(losses16[^1] < 0.7 * losses16[0], $"bf16 loss {losses16[0]:F3} → {losses16[^1]:F3}");
        Assert.True(Math.Abs(losses16[^1] - losses32[^1]) < 0.1 * losses32[^1] + 0.01, $"final loss fp32 {losses32[^1]}, bf16 {losses16[^1]}");

        // The classifier's text features are the fp32 tower's for the trained context.
        using var check = PromptLearner.WithContext(model, ClipTokenizer.Default, classes, options, ctx16);
        Assert.True(check.TextFeatures(64).allclose(mixed.Weights["text_features"], 1e-6, 1e-7));

        var error = Assert.Throws<InvalidOperationException>(() => new CoOpMethod(options with { Precision = "bf16" }).Fit(Context(new RecordingSink(), withCopy: false)));
        Assert.Contains("coop", error.Message);
        Assert.Contains("bf16", error.Message);
        Assert.Contains(new CoOpOptions { Precision = "fp16" }.Validate(), m => m.StartsWith("precision") && m.Contains("'fp16'"));
    }

    [Fact]
    public void SameSeedGivesIdenticalResults()
    {
        using var scope = NewDisposeScope();
        using var model = WellConditionedClip();
        string[] classes = ["cat", "dog", "bird"];
        var options = new CoOpOptions { NCtx = 4, Epochs = 3, BatchSize = 4, TrainViews = 2, Select = "best-val" };
        IFeatureClassifier Run(ulong seed) => new CoOpMethod(options).Fit(Learnable(model, classes, 3, 2, NullMetricSink.Instance, seed));
        using var a = Run(5);
        using var b = Run(5);
        using var c = Run(6);
        Assert.True(a.Weights["ctx"].allclose(b.Weights["ctx"], 0, 0));
        Assert.True(a.Weights["text_features"].allclose(b.Weights["text_features"], 0, 0));
        Assert.False(a.Weights["ctx"].allclose(c.Weights["ctx"]));
    }

    [Fact]
    public void OptionsHaveTheOfficialDefaultsAndAreValidated()
    {
        var o = new CoOpOptions();
        Assert.Equal((16, "", "end", false, (int?)null, 32), (o.NCtx, o.CtxInit, o.ClassTokenPosition, o.ClassSpecificContext, o.Epochs, o.BatchSize));
        Assert.Equal((0.002, 0.9, 5e-4, 1, 1e-5, 10, "last"), (o.Lr, o.Momentum, o.WeightDecay, o.WarmupEpochs, o.WarmupLr, o.TrainViews, o.Select));
        Assert.Empty(o.Validate());
        Assert.Contains(new CoOpOptions { ClassTokenPosition = "back" }.Validate(), m => m.Contains("classTokenPosition"));
        Assert.Contains(new CoOpOptions { NCtx = 0 }.Validate(), m => m.Contains("nCtx"));
        Assert.Contains(new CoOpOptions { BatchSize = 0 }.Validate(), m => m.Contains("batchSize"));
        Assert.Contains(new CoOpOptions { Lr = -1 }.Validate(), m => m.Contains("lr"));
        Assert.Contains(new CoOpOptions { Momentum = 1 }.Validate(), m => m.Contains("momentum"));
        Assert.Contains(new CoOpOptions { ClassChunk = 0 }.Validate(), m => m.Contains("classChunk"));
        Assert.Contains(new CoOpOptions { Select = "best" }.Validate(), m => m.Contains("select"));
        Assert.Contains(new CoOpOptions { Epochs = -1 }.Validate(), m => m.Contains("epochs"));

        var descriptor = MethodCatalog.Load().Get("coop");
        Assert.Equal(typeof(CoOpOptions).FullName, descriptor.OptionsType.FullName);
        IConfiguration Section(params (string, string)[] values) =>
            new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Item1, v.Item2))).Build();
        Assert.Contains("middel", Assert.Throws<MethodOptionsException>(() => descriptor.Create(Section(("classTokenPosition", "middel")))).Message);
        Assert.Contains("'nctxx'", Assert.Throws<MethodOptionsException>(() => descriptor.Create(Section(("nctxx", "4")))).Message);
        Assert.NotNull(descriptor.Create(Section(("nCtx", "4"), ("classSpecificContext", "true"), ("ctxInit", "a photo of a"))));
    }

    [Fact]
    public void StepTimeWithAndWithoutTruncationAndChunking()
    {
        // A measurement, not a speed assertion: prints the ratios; asserts the three configurations agree.
        // Text tower 128 wide, 2 layers; 32 classes "class number i" with 16 context tokens: longest prompt 22 of 77.
        using var scope = NewDisposeScope();
        using var model = WellConditionedClip(RandomClip.SmallViT with { TextWidth = 128, TextLayers = 2 });
        var support = new { Clip = new { Model = model } };
        var classes = Enumerable.Range(0, 32).Select(i => $"class number {i}").ToArray();
        var images = nn.functional.normalize(randn([32, model.EmbedDim], generator: new Generator(2)), dim: -1);
        var labels = arange(32, dtype: ScalarType.Int64) % classes.Length;
        var options = new CoOpOptions();
        double Time(bool truncate, int chunk, out Tensor ctx)
        {
            var learner = new PromptLearner(support.Clip.Model, ClipTokenizer.Default, classes, options, new Generator(1), truncate);
            var trainer = new PromptTrainer(learner, options with { ClassChunk = chunk }, PromptTrainer.CrossEntropy(100f));
            trainer.Step(images, labels, 0.002);  // warm-up
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < 2; i++) trainer.Step(images, labels, 0.002);
            ctx = learner.Ctx.detach().clone();
            output.WriteLine($"sequence length {learner.SequenceLength}, chunk {chunk}: {sw.Elapsed.TotalMilliseconds / 2:F0} ms");
            return sw.Elapsed.TotalMilliseconds / 2;
        }
        double full = Time(false, 64, out var a), truncated = Time(true, 64, out var b), chunked = Time(true, 8, out var c);
        output.WriteLine($"step: full length 77 {full:F1} ms, truncated {truncated:F1} ms (x{full / truncated:F2}), truncated + chunks of 8 {chunked:F1} ms (x{full / chunked:F2})");
        Assert.True(a.allclose(b, 1e-5, 1e-6) && b.allclose(c, 1e-5, 1e-6));
    }
}
