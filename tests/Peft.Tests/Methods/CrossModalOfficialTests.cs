using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Peft.Clip.Text;
using Peft.Core;
using Peft.Methods.CrossModal;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

using static OfficialCell;

/// <summary>
/// The cross-modal linear probe against the official code on the five official-comparison cells. The fixture
/// (Fixtures/official/crossmodal.json) was made by <c>tools/reference/official_crossmodal.py</c>:
/// linzhiqiu/cross_modal_adaptation ac9077e's own <c>train.py</c> <c>train</c>/<c>validate</c>/<c>get_valid_batch_sizes</c>/
/// <c>get_eval_heads</c>, <c>LogitHead</c>, <c>build_optimizer</c>, <c>build_lr_scheduler</c>, <c>HYPER_DICT['linear']</c> and
/// <c>eval.py</c>'s <c>take_average</c>, over the published grid, on the cells' features (augmented view 0 standing in for
/// the "flip" view), its loaders' permutations and the head's initial weights drawn from a generator seeded 1.
/// </summary>
public class CrossModalOfficialTests(ITestOutputHelper output)
{
    static readonly JsonElement Fixture = ReadFixture("crossmodal.json");

    public static TheoryData<string> Cells()
    {
        var data = new TheoryData<string>();
        foreach (var cell in Fixture.GetProperty("cells").EnumerateArray()) data.Add(cell.GetProperty("file").GetString()!);
        return data;
    }

    static JsonElement Official(string file) =>
        OfficialCell.CellOf(Fixture, file);

    static string Sha256(IEnumerable<byte[]> chunks)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var chunk in chunks) sha.AppendData(chunk);
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    static byte[] Bytes<T>(T[] values) where T : struct => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    [Fact]
    public void FixtureNamesTheOfficialCodeAndThePublishedGrid()
    {
        Assert.StartsWith("ac9077e", Fixture.GetProperty("official").GetProperty("cross_modal_adaptation").GetString());
        Assert.Equal(5, Fixture.GetProperty("cells").GetArrayLength());
        var hyper = Fixture.GetProperty("hyper");
        var options = new CrossModalOptions();
        Assert.Equal("adamw", hyper.GetProperty("optim").GetString());
        Assert.Equal(OfficialCell.Doubles(hyper.GetProperty("lr")), options.Lr);
        Assert.Equal(OfficialCell.Doubles(hyper.GetProperty("weight_decay")), options.WeightDecay);
        Assert.Equal(Longs(hyper.GetProperty("batch_size")).Select(b => (int)b), options.BatchSize);
        Assert.Equal(hyper.GetProperty("max_iter")[0].GetInt32(), options.Iterations);
        Assert.Equal(("cosine", "linear"), (hyper.GetProperty("lr_scheduler").GetString(), hyper.GetProperty("warmup_type").GetString()));
        Assert.Equal(hyper.GetProperty("warmup_iter").GetInt32(), options.WarmupIterations);
        Assert.Equal(hyper.GetProperty("warmup_min_lr").GetDouble(), options.WarmupLr);
        Assert.Equal(Fixture.GetProperty("eval_freq").GetInt32(), options.EvalEvery);
        Assert.Equal(Fixture.GetProperty("batch_ratio").GetDouble(), CrossModalOptions.CrossModalBatchRatio);
        Assert.Equal(Fixture.GetProperty("logit").GetDouble(), options.Logit);
    }

    /// <summary>
    /// Same valid batch sizes; per grid point the same initial weights and loader permutations (our generator draws what
    /// PyTorch's drew), the same learning rate at the recorded iterations (to the last bit), losses within 1e-4
    /// (relative), the same chosen iteration and validation accuracy; the same chosen grid point; and the same test
    /// prediction for every image with the trained head and with its WiSE-FT mix.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cells))]
    public void TrainsChoosesAndPredictsAsTheOfficialCode(string file)
    {
        using var scope = NewDisposeScope();
        using var clip = TinyClip();
        using var cell = new OfficialCell(file);
        var official = Official(file);

        using var embeddings = TextClassifier.Embeddings(clip.Model, ClipTokenizer.Default, cell.Task.ClassNames, cell.Task.Templates);
        Assert.Equal(0.0, (embeddings - cell.F("text_embeddings")).abs().max().item<float>());

        var options = new CrossModalOptions { Iterations = Fixture.GetProperty("iters").GetInt32(), WiseFt = true };
        Assert.Equal("cross_modal", official.GetProperty("modality").GetString());
        var method = new CrossModalMethod(options) { Trace = new CrossModalTrace() };
        var watch = Stopwatch.StartNew();
        var search = method.Search(cell.Context(clip, new RecordingSink(), seed: Fixture.GetProperty("seed").GetInt64()));
        watch.Stop();
        using var classifier = search.Classifier;
        var trace = method.Trace;

        var grid = official.GetProperty("grid").EnumerateArray().ToList();
        Assert.Equal(grid.Count, search.Runs.Count);
        Assert.Equal(Longs(official.GetProperty("valid_batch_sizes")).Select(b => (int)b), search.Runs.Select(r => r.BatchSize).Distinct());
        double worstLoss = 0;
        int sameIteration = 0;
        for (int k = 0; k < grid.Count; k++)
        {
            var o = grid[k];
            var run = search.Runs[k];
            string point = $"{file} grid point {k} ({o.GetProperty("hyperparams").GetString()})";
            Assert.Equal((o.GetProperty("lr").GetDouble(), o.GetProperty("weight_decay").GetDouble(), o.GetProperty("batch_size").GetInt32()),
                (run.Lr, run.WeightDecay, run.BatchSize));
            Assert.Equal(o.GetProperty("initial_weight_sha256").GetString(), Sha256([Bytes(trace!.InitialWeights[k])]));
            Assert.Equal(o.GetProperty("orders_count").GetInt32(), trace.Orders[k].Count);
            Assert.Equal(Longs(o.GetProperty("first_order_head")), trace.Orders[k][0].Take(8));
            Assert.Equal(o.GetProperty("orders_sha256").GetString(), Sha256(trace.Orders[k].Select(Bytes)));

            var marks = Longs(o.GetProperty("checkpoints")).Select(m => (int)m).ToArray();
            var officialLrs = OfficialCell.Doubles(o.GetProperty("lrs"));
            var officialLosses = OfficialCell.Doubles(o.GetProperty("losses"));
            var losses = trace.Losses!.Where(l => l.Grid == k).ToDictionary(l => l.Iteration, l => (double)l.Loss);
            for (int j = 0; j < marks.Length; j++)
            {
                Assert.True(trace.LearningRates[k][marks[j]] == officialLrs[j], $"{point}: iteration {marks[j]} lr {trace.LearningRates[k][marks[j]]:R}, official {officialLrs[j]:R}");
                worstLoss = Math.Max(worstLoss, Math.Abs(losses[marks[j]] - officialLosses[j]) / Math.Max(1, Math.Abs(officialLosses[j])));
            }
            if (run.BestIteration == o.GetProperty("iter").GetInt32()) sameIteration++;
            Assert.True(run.BestIteration == o.GetProperty("iter").GetInt32(), $"{point}: best iteration {run.BestIteration}, official {o.GetProperty("iter").GetInt32()}");
            Assert.Equal(o.GetProperty("val_acc").GetDouble(), run.ValAccuracy, 12);
        }
        Assert.Equal(official.GetProperty("chosen").GetInt32(), search.Chosen);

        var labels = cell.L("test_labels");
        using var trained = new CrossModalClassifier(classifier.Weights["trained_weight"].clone(), CrossModalClassifier.Scale(options.Logit));
        var predictions = cell.Predict(trained);
        var wiseFt = cell.Predict(classifier);
        var officialPredictions = Longs(official.GetProperty("test_predictions"));
        var officialWiseFt = Longs(official.GetProperty("test_predictions_wiseft"));
        var chosen = grid[search.Chosen];
        output.WriteLine($"{file}: {grid.Count} grid points × {options.Iterations} iterations in {watch.Elapsed.TotalSeconds:F1} s; chosen " +
                         $"{chosen.GetProperty("hyperparams").GetString()} at iteration {search.Runs[search.Chosen].BestIteration} " +
                         $"(same iteration at {sameIteration}/{grid.Count} points); losses within {worstLoss:g2}; test {Accuracy(predictions, labels):F2}% " +
                         $"vs official {Accuracy(officialPredictions, labels):F2}% ({Differences(predictions, officialPredictions)}/{predictions.Length} differ), " +
                         $"WiSE-FT {Accuracy(wiseFt, labels):F2}% vs {Accuracy(officialWiseFt, labels):F2}% ({Differences(wiseFt, officialWiseFt)} differ)");
        Assert.True(worstLoss < 1e-4, $"{file}: a recorded loss differs from the official by {worstLoss:g3} (relative)");
        Assert.Equal(officialPredictions, predictions);
        Assert.Equal(officialWiseFt, wiseFt);
    }
}
