using System.Globalization;
using Peft.Core;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Methods.CrossModal;

/// <summary>
/// Cross-modal linear probe (Lin et al., CVPR 2023; linzhiqiu/cross_modal_adaptation train.py, eval.py) on cached
/// features: the class prompts' text features are training samples of their class alongside the image features, and a
/// linear head W [C, D] on normalised inputs, logits exp(logit)·normalise(x)·Wᵀ, is trained with cross-entropy. For every
/// grid point (lr × weight decay × valid batch size, in the official loop order) the head is trained for
/// <see cref="CrossModalOptions.Iterations"/> iterations with AdamW under a linear warm-up then cosine; each iteration
/// takes int(batch/2) text features and the rest image features, each from its own shuffled, drop_last loader that
/// restarts when exhausted; every <see cref="CrossModalOptions.EvalEvery"/> iterations the head is validated on the
/// cell's few-shot validation features and the first best is kept (strict &gt;). The grid point with the best validation
/// accuracy wins (strict &gt;, grid order: eval.py <c>take_average</c>); its head classifies test images.
/// <para>
/// Image training features are the cell's plain (centre-crop) features plus, with <c>imageAugmentation: flip</c>, one
/// cached view of the plugin's "flip" transform (the centre crop mirrored). Text features are the unnormalised text
/// features of every (class, template) prompt (<see cref="TextClassifier.Embeddings"/>), class by class. Random draws
/// (head initialisation, then each loader's permutations as the loop first needs them, grid point after grid point)
/// come from the cell's generator.
/// </para>
/// </summary>
public sealed class CrossModalMethod(CrossModalOptions options) : IAdaptationMethod
{
    public CrossModalOptions Options => options;

    /// <summary>What the tests compare with the official code (null in normal runs).</summary>
    internal CrossModalTrace? Trace { get; set; }

    public IFeatureClassifier Fit(AdaptationContext context) => Search(context).Classifier;

    internal CrossModalSearch Search(AdaptationContext context)
    {
        using var scope = NewDisposeScope();
        int classes = context.Task.NumClasses;
        bool crossModal = options.Modality == "cross-modal";
        var templates = PromptTemplates.Resolve(options.Templates, context.Task.Templates);
        var embeddings = TextClassifier.Embeddings(context.TextEncoder, context.Tokenizer, context.Task.ClassNames, templates); // [C, T, D]
        long dim = embeddings.shape[2];
        // features.py extract_text_features: class after class, every template of the class.
        var text = embeddings.reshape(-1, dim);
        var textLabels = arange(classes, dtype: ScalarType.Int64).repeat_interleave(templates.Count);
        // head.py get_zero_shot_weights (text layer 0: the partial model is the identity): mean of the class's
        // unnormalised text features, normalised.
        var zeroShot = nn.functional.normalize(embeddings.mean([1]), p: 2, dim: 1);

        var labels = context.Features.TrainLabels.to(ScalarType.Int64);
        var image = context.Features.TrainFeatures().to(ScalarType.Float32);
        var imageLabels = labels;
        if (options.ImageAugmentation == "flip")
        {
            // train.py: torch.cat([ccrop_features['train']['features'], image_features['train']['features']])
            image = cat([image, context.Features.TrainViews(1)[0].to(ScalarType.Float32)], 0);
            imageLabels = cat([labels, labels], 0);
        }
        var valLabels = context.Features.ValLabels.to(ScalarType.Int64);
        if (valLabels.shape[0] == 0)
            throw new InvalidOperationException("cross-modal chooses its iteration and grid point on the validation split, and this cell has no validation images");
        var val = CrossModalClassifier.Normalise(context.Features.ValFeatures());

        long imageCount = image.shape[0], textCount = crossModal ? text.shape[0] : 0;
        var batchSizes = CrossModalSchedule.ValidBatchSizes(options.BatchSize, text.shape[0], imageCount, crossModal);
        if (batchSizes.Count == 0)
            throw new InvalidOperationException(
                $"batchSize: none of [{string.Join(", ", options.BatchSize)}] fits this cell ({text.shape[0]} text features, {imageCount} image " +
                "features; a batch's text share int(batch/2) and image share must each be smaller than their set, train.py get_valid_batch_sizes)");
        context.Metrics.Log("valid_batch_sizes", batchSizes.Count);

        // LogitHead normalises its input row by row: normalise the pool once (images first, then text, as the batch is
        // torch.cat([image_feature, text_feature])).
        var pool = crossModal ? cat([CrossModalClassifier.Normalise(image), CrossModalClassifier.Normalise(text)], 0) : CrossModalClassifier.Normalise(image);
        var poolLabels = crossModal ? cat([imageLabels, textLabels], 0) : imageLabels;
        var scale = CrossModalClassifier.Scale(options.Logit);

        var runs = new List<GridRun>();
        GridRun? chosen = null;
        int hostThreads = get_num_threads();
        int threads = LoopThreads(classes, dim, hostThreads);
        context.Metrics.Log("loop_threads", threads);
        if (threads != hostThreads) set_num_threads(threads);
        try
        {
            foreach (double lr in options.Lr)
                foreach (double wd in options.WeightDecay)
                    foreach (int batch in batchSizes)
                    {
                        context.Cancellation.ThrowIfCancellationRequested();
                        var run = Train(runs.Count, lr, wd, batch, crossModal, pool, poolLabels, imageCount, textCount, val, valLabels, zeroShot,
                            scale, classes, dim, context);
                        runs.Add(run);
                        context.Metrics.Log("grid/val_accuracy", run.ValAccuracy, run.Index);
                        context.Metrics.Log("grid/best_iteration", run.BestIteration, run.Index);
                        if (chosen is null || run.BestCorrect > chosen.BestCorrect) chosen = run;   // eval.py: strict >, grid order
                    }
        }
        finally
        {
            if (threads != hostThreads) set_num_threads(hostThreads);
        }

        LogChosen(chosen!, context.Metrics);
        Tensor head = chosen!.BestWeight;
        var extra = new Dictionary<string, Tensor>();
        if (options.WiseFt)
        {
            // train.py get_wiseft: (1 − r)·W + r·normalize(zero_shot_weights)
            extra["trained_weight"] = head.clone().MoveToOuterDisposeScope();
            extra["zero_shot_weight"] = zeroShot.clone().MoveToOuterDisposeScope();
            head = (1 - options.WiseFtRatio) * head + options.WiseFtRatio * zeroShot;
        }
        var classifier = new CrossModalClassifier(head.MoveToOuterDisposeScope(), scale.MoveToOuterDisposeScope(), extra);
        return new CrossModalSearch(classifier, runs.Select(r => r with { BestWeight = null! }).ToList(), chosen.Index);
    }

    /// <summary>Heads with fewer weights than this train on one libtorch thread.</summary>
    internal const long SingleThreadBelow = 1 << 18;

    /// <summary>
    /// Intra-op threads for the training loop. Every step works on a batch of at most a few dozen rows and a head of
    /// C·D weights; below <see cref="SingleThreadBelow"/> weights (every CoOp dataset but ImageNet at D = 1024) an
    /// operation is a few microseconds of work and a second libtorch thread only adds synchronisation — on the 2-core
    /// development machine under load a step took 0.6–6 ms with 2 threads and 0.13–0.2 ms with 1. So the loop runs on one
    /// thread there, and the host's setting is restored afterwards.
    /// </summary>
    internal static int LoopThreads(int classes, long dim, int hostThreads) => classes * dim < SingleThreadBelow ? 1 : hostThreads;

    void LogChosen(GridRun chosen, IMetricSink metrics)
    {
        metrics.Log("chosen/grid_point", chosen.Index);
        metrics.Log("chosen/lr", chosen.Lr);
        metrics.Log("chosen/weight_decay", chosen.WeightDecay);
        metrics.Log("chosen/batch_size", chosen.BatchSize);
        metrics.Log("chosen/best_iteration", chosen.BestIteration);
        metrics.Log("val/best_accuracy", chosen.ValAccuracy);
        for (int e = 0; e < chosen.EvalLosses.Length; e++)
        {
            metrics.Log("train/loss", chosen.EvalLosses[e], e * options.EvalEvery);
            metrics.Log("val/accuracy", chosen.EvalAccuracies[e], e * options.EvalEvery);
        }
    }

    /// <summary>One grid point: initialise the head, train it, validate every EvalEvery iterations, keep the first best.</summary>
    GridRun Train(int index, double lr, double weightDecay, int batch, bool crossModal, Tensor pool, Tensor poolLabels, long imageCount,
        long textCount, Tensor val, Tensor valLabels, Tensor zeroShot, Tensor scale, int classes, long dim, AdaptationContext context)
    {
        int iterations = options.Iterations;
        var rates = CrossModalSchedule.LearningRates(iterations, lr, options.WarmupIterations, options.WarmupLr);
        Trace?.LearningRates.Add(rates);

        // make_classifier_head: nn.Linear(D, C, bias=False), kaiming_uniform_(a=√5) ⇒ U(−1/√D, 1/√D); or the zero-shot weights.
        Tensor initial;
        using (no_grad())
            initial = options.Init == "random"
                ? empty(classes, dim).uniform_(-1 / Math.Sqrt(dim), 1 / Math.Sqrt(dim), context.Generator)
                : zeroShot.clone();
        Trace?.InitialWeights.Add(initial.data<float>().ToArray());

        // The loaders' orders for the whole run: image rows, then text rows (offset past the images in the pool), per
        // iteration, drawn in the order the official loop first needs each permutation.
        var (textBatch, imageBatch) = CrossModalSchedule.Split(batch, crossModal);
        var orders = Trace is null ? null : new List<long[]>();
        var imageLoader = new CrossModalSchedule.RestartingLoader(imageCount, imageBatch, context.Generator, orders);
        var textLoader = textBatch > 0 ? new CrossModalSchedule.RestartingLoader(textCount, textBatch, context.Generator, orders) : null;
        var rows = new long[(long)iterations * batch];
        for (int i = 0; i < iterations; i++)
        {
            var step = rows.AsSpan(i * batch, batch);
            imageLoader.Next(step[..imageBatch], 0);
            textLoader?.Next(step[imageBatch..], imageCount);
        }
        if (orders is not null) Trace!.Orders.Add(orders);
        var rowIndex = tensor(rows);
        var rowLabels = poolLabels.index_select(0, rowIndex);

        var weight = new Parameter(initial, requires_grad: true);
        using var optimizer = new AdamW(weight);
        long valCount = valLabels.shape[0], bestCorrect = -1;
        int bestIteration = -1;
        var bestWeight = weight.detach().clone();
        int evals = (iterations + options.EvalEvery - 1) / options.EvalEvery;
        var evalLosses = new double[evals];
        var evalAccuracies = new double[evals];
        try
        {
            for (int i = 0; i < iterations; i++)
            {
                using var stepScope = NewDisposeScope();
                var x = pool.index_select(0, rowIndex.narrow(0, (long)i * batch, batch));
                var y = rowLabels.narrow(0, (long)i * batch, batch);
                var loss = nn.functional.cross_entropy(CrossModalClassifier.Forward(x, weight, scale), y);
                weight.grad?.zero_();
                loss.backward();
                optimizer.Step(weight, weight.grad!, rates[i], weightDecay);
                bool eval = i % options.EvalEvery == 0;
                if (Trace?.Losses is { } losses) losses.Add((index, i, loss.item<float>()));
                if (!eval) continue;

                using var noGrad = no_grad();
                long correct = CrossModalClassifier.Forward(val, weight, scale).argmax(1).eq(valLabels).sum().item<long>();
                int e = i / options.EvalEvery;
                evalLosses[e] = loss.item<float>();
                evalAccuracies[e] = (double)correct / valCount;
                if (correct > bestCorrect)   // train.py: result_dict["val_acc"] is None or val_acc > result_dict["val_acc"]
                {
                    (bestCorrect, bestIteration) = (correct, i);
                    bestWeight.copy_(weight);
                }
            }
        }
        finally
        {
            weight.Dispose();
        }
        return new GridRun(index, lr, weightDecay, batch, bestIteration, bestCorrect, (double)bestCorrect / valCount, evalLosses, evalAccuracies,
            bestWeight);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"cross-modal({options.Modality}, {options.Iterations} iterations)");
}

/// <summary>One grid point's outcome: its hyperparameters, the first best validation iteration and that head.</summary>
internal sealed record GridRun(int Index, double Lr, double WeightDecay, int BatchSize, int BestIteration, long BestCorrect, double ValAccuracy,
    double[] EvalLosses, double[] EvalAccuracies, Tensor BestWeight);

/// <summary>The search over the grid: every point's outcome, the chosen one, and the classifier built from it.</summary>
internal sealed record CrossModalSearch(CrossModalClassifier Classifier, IReadOnlyList<GridRun> Runs, int Chosen);

/// <summary>Recorded while training, for comparison with the official code.</summary>
internal sealed class CrossModalTrace
{
    public List<double[]> LearningRates { get; } = [];
    public List<float[]> InitialWeights { get; } = [];
    /// <summary>Per grid point, the permutations drawn, in draw order.</summary>
    public List<List<long[]>> Orders { get; } = [];
    /// <summary>(grid point, iteration, loss) of every iteration; null to skip.</summary>
    public List<(int Grid, int Iteration, float Loss)>? Losses { get; set; } = [];
}
