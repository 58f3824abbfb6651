using System.Security.Cryptography;
using System.Text.Json;
using Peft.Clip.Text;
using Peft.Core;
using Peft.Methods.Clap;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

using static OfficialCell;

/// <summary>
/// CLAP and its ZS-LP baseline against the official trainer on the five official-comparison cells. The fixture
/// (Fixtures/official/clap.json) was made by <c>tools/reference/official_clap.py</c>: jusiro/CLAP's own
/// <c>trainers/adapters.py</c> (dbdf409) — its <c>ADAPTER.train</c>, feature pooling, multipliers, <c>run_epoch</c> and
/// <c>forward_backward</c> — with Dassl's own trainer, SGD and scheduler (Dassl.pytorch c61a1b5), on the cells' 10 cached
/// views, its per-epoch shuffle driven by <c>torch.randperm</c> from a generator seeded 1.
/// </summary>
public class ClapOfficialTests(ITestOutputHelper output)
{
    static readonly JsonElement Fixture = ReadFixture("clap.json");

    public static TheoryData<string, string> Runs()
    {
        var data = new TheoryData<string, string>();
        foreach (var cell in Fixture.GetProperty("cells").EnumerateArray())
            foreach (var variant in new[] { "clap", "zslp" })
                data.Add(cell.GetProperty("file").GetString()!, variant);
        return data;
    }

    static JsonElement Official(string file, string variant) =>
        OfficialCell.CellOf(Fixture, file).GetProperty(variant);

    [Fact]
    public void FixtureNamesTheOfficialCode()
    {
        Assert.Equal("dbdf4095b3d824546474c725539b9f4efff3ca0e", Fixture.GetProperty("official").GetProperty("clap").GetString());
        Assert.Equal("c61a1b570ac6333bd50fb5ae06aea59002fb20bb", Fixture.GetProperty("official").GetProperty("dassl").GetString());
        Assert.Equal(5, Fixture.GetProperty("cells").GetArrayLength());
    }

    /// <summary>
    /// Same configuration (SGD_lr1e-1_B256_ep300 with Dassl's defaults), same multipliers, same shuffles of the pooled
    /// views (our generator draws what PyTorch's drew), same losses epoch by epoch, same test predictions.
    /// </summary>
    [Theory]
    [MemberData(nameof(Runs))]
    public void TrainsAndPredictsAsTheOfficialCode(string file, string variant)
    {
        using var scope = NewDisposeScope();
        using var clip = TinyClip();
        using var cell = new OfficialCell(file);
        var official = Official(file, variant);

        // The prototypes start from the unnormalised text features the official script was given.
        using var embeddings = TextClassifier.Embeddings(clip.Model, ClipTokenizer.Default, cell.Task.ClassNames, cell.Task.Templates);
        Assert.Equal(0.0, (embeddings - cell.F("text_embeddings")).abs().max().item<float>());
        Assert.Equal(Fixture.GetProperty("logit_scale").GetDouble(), clip.Model.LogitScale, 5);

        int views = official.GetProperty("augment_passes").GetInt32();   // the cell's 10 views for the official 20 passes
        var options = new ClapOptions { AugmentViews = views, Constraint = official.GetProperty("constraint").GetString()! };
        Assert.Equal(variant == "clap" ? "l2" : "none", options.Constraint);
        Assert.Equal(new ClapOptions().Constraint, Official(file, "clap").GetProperty("constraint").GetString());
        Assert.Equal(official.GetProperty("epochs").GetInt32(), options.Epochs);
        Assert.Equal(official.GetProperty("lr").GetDouble(), options.Lr);
        Assert.Equal(official.GetProperty("momentum").GetDouble(), options.Momentum);
        Assert.Equal(official.GetProperty("weight_decay").GetDouble(), options.WeightDecay);
        Assert.Equal(official.GetProperty("batch_size").GetInt32(), options.BatchSize);
        Assert.Equal(official.GetProperty("warmup_epochs").GetInt32(), options.WarmupEpochs);
        Assert.Equal(official.GetProperty("warmup_lr").GetDouble(), options.WarmupLr);
        long n = cell.L("train_labels").shape[0];
        Assert.Equal(official.GetProperty("batches_per_epoch").GetInt32(), DasslSchedule.BatchesPerEpoch(n, options.BatchSize));

        // run_epoch's shuffles of the pool of V·N features: one randperm per epoch from the cell's generator (seed 1).
        var g = new Generator(1);
        var orders = Enumerable.Range(0, options.Epochs).Select(_ => randperm(views * n, generator: g).data<long>().ToArray()).ToList();
        var first = official.GetProperty("first_orders").EnumerateArray().Select(Longs).ToList();
        Assert.Equal(first[0], orders[0]);
        Assert.Equal(first[1], orders[1]);
        Assert.Equal(official.GetProperty("orders_sha256").GetString(),
            Convert.ToHexStringLower(SHA256.HashData(orders.SelectMany(o => o).SelectMany(BitConverter.GetBytes).ToArray())));

        var sink = new RecordingSink();
        using var clap = new Clap(options).Fit(cell.Context(clip, sink));
        if (variant == "clap")
        {
            var multipliers = clap.Weights["multipliers"].data<float>().ToArray();
            var officialMultipliers = OfficialCell.Doubles(official.GetProperty("multipliers"));
            Assert.Equal(officialMultipliers.Length, multipliers.Length);
            for (int c = 0; c < multipliers.Length; c++)
                Assert.True(Math.Abs(multipliers[c] - officialMultipliers[c]) <= 1e-6, $"class {c}: λ {multipliers[c]:R}, official {officialMultipliers[c]:R}");
        }
        else Assert.False(clap.Weights.ContainsKey("multipliers"));

        var lrs = sink.Series("train/lr");
        var officialLrs = OfficialCell.Doubles(official.GetProperty("epoch_lrs"));
        Assert.Equal(officialLrs.Length, lrs.Length);
        for (int e = 0; e < lrs.Length; e++) Assert.True(Math.Abs(lrs[e] - officialLrs[e]) <= 1e-15, $"epoch {e}: lr {lrs[e]:R}, official {officialLrs[e]:R}");

        var losses = sink.Series("train/loss");
        var officialLosses = OfficialCell.Doubles(official.GetProperty("epoch_losses"));
        double worst = losses.Zip(officialLosses).Max(p => Math.Abs(p.First - p.Second) / Math.Max(1, Math.Abs(p.Second)));
        var distance = (clap.Weights["prototypes"] - clap.Weights["base_text_features"]).pow(2).sum(-1).data<float>().ToArray();
        var officialDistance = OfficialCell.Doubles(official.GetProperty("distance_to_zero_shot"));
        double worstDistance = distance.Zip(officialDistance).Max(p => Math.Abs(p.First - p.Second) / Math.Max(1, Math.Abs(p.Second)));
        var predictions = cell.Predict(clap);
        var officialPredictions = Longs(official.GetProperty("test_predictions"));
        var labels = cell.L("test_labels");
        output.WriteLine($"{file} {variant}: losses within {worst:g2} (final {losses[^1]:F4} vs {officialLosses[^1]:F4}), ‖w − t‖² within {worstDistance:g2}; " +
                         $"test {Accuracy(predictions, labels):F2}% vs official {Accuracy(officialPredictions, labels):F2}%, " +
                         $"{Differences(predictions, officialPredictions)}/{predictions.Length} predictions differ");
        Assert.True(worst < 1e-4, $"{file}: an epoch's mean loss differs from the official by {worst:g3} (relative)");
        Assert.True(worstDistance < 1e-4, $"{file}: a prototype's distance to zero-shot differs from the official by {worstDistance:g3} (relative)");
        Assert.Equal(officialPredictions, predictions);
    }
}
