using System.Security.Cryptography;
using System.Text.Json;
using Peft.Methods.CoCoOp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

using static OfficialCell;

/// <summary>
/// CoCoOp against the official trainer on the five official-comparison cells, with the shipped tiny CLIP's text tower on
/// both sides. The fixture (Fixtures/official/cocoop.json) was made by <c>tools/reference/official_cocoop.py</c>:
/// KaiyangZhou/CoOp's own <c>trainers/cocoop.py</c> (ff61507c) built by its own <c>build_model</c> and CLIP package,
/// trained by Dassl's <c>run_epoch</c>, SGD and scheduler (Dassl.pytorch c61a1b5) with the COCOOP.md config (batch 1,
/// 10 epochs) on the cells' cached views, sampler orders from a generator seeded 1. The meta-net's initial weights come
/// from PyTorch's global generator there; ours starts from the recorded ones.
/// </summary>
public class CoCoOpOfficialTests(ITestOutputHelper output)
{
    static readonly JsonElement Fixture = ReadFixture("cocoop.json");

    public static TheoryData<string> Cells()
    {
        var data = new TheoryData<string>();
        foreach (var cell in Fixture.GetProperty("cells").EnumerateArray()) data.Add(cell.GetProperty("file").GetString()!);
        return data;
    }

    static Tensor Weight(JsonElement net, string name, params long[] shape) =>
        tensor(OfficialCell.Doubles(net.GetProperty(name)).Select(v => (float)v).ToArray()).reshape(shape);

    [Fact]
    public void FixtureNamesTheOfficialCode()
    {
        Assert.Equal("ff61507c790454bce7c5052c3ac39e60772f1f89", Fixture.GetProperty("official").GetProperty("coop").GetString());
        Assert.Equal("c61a1b570ac6333bd50fb5ae06aea59002fb20bb", Fixture.GetProperty("official").GetProperty("dassl").GetString());
        Assert.Equal(5, Fixture.GetProperty("cells").GetArrayLength());
    }

    /// <summary>
    /// From the same initial meta-net: same schedule and orders, every epoch's loss within 1e-4 (relative), context and
    /// the meta-net's norms within 1e-3, every test prediction the same.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cells))]
    public void TrainsAndPredictsAsTheOfficialCode(string file)
    {
        using var scope = NewDisposeScope();
        using var clip = TinyClip();
        using var cell = new OfficialCell(file);
        var official = OfficialCell.CellOf(Fixture, file).GetProperty("cocoop");
        var options = new CoCoOpOptions();
        Assert.Equal(official.GetProperty("epochs").GetInt32(), options.Epochs);
        Assert.Equal(official.GetProperty("lr").GetDouble(), options.Lr);
        Assert.Equal(official.GetProperty("batch_size").GetInt32(), options.BatchSize);

        long n = cell.L("train_labels").shape[0];
        var g = new Generator(1);
        var orders = Enumerable.Range(0, options.Epochs).Select(_ => randperm(n, generator: g).data<long>().ToArray()).ToList();
        Assert.Equal(official.GetProperty("orders_sha256").GetString(),
            Convert.ToHexStringLower(SHA256.HashData(orders.SelectMany(o => o).SelectMany(BitConverter.GetBytes).ToArray())));

        int d = clip.Model.EmbedDim, w = clip.Model.TextWidth, h = d / 16;
        var init = official.GetProperty("initial_meta_net");
        var method = new CoCoOp(options)
        {
            InitialMetaNet = [Weight(init, "linear1.weight", h, d), Weight(init, "linear1.bias", h), Weight(init, "linear2.weight", w, h), Weight(init, "linear2.bias", w)],
        };
        var sink = new RecordingSink();
        using var cocoop = method.Fit(cell.Context(clip, sink));

        var lrs = sink.Series("lr");
        var officialLrs = OfficialCell.Doubles(official.GetProperty("epoch_lrs"));
        Assert.Equal(officialLrs.Length, lrs.Length);
        for (int e = 0; e < lrs.Length; e++) Assert.True(Math.Abs(lrs[e] - officialLrs[e]) <= 1e-15, $"epoch {e}: lr {lrs[e]:R}, official {officialLrs[e]:R}");
        var losses = sink.Series("train_loss");
        var officialLosses = OfficialCell.Doubles(official.GetProperty("epoch_losses"));
        double worstLoss = losses.Zip(officialLosses).Max(p => Math.Abs(p.First - p.Second) / Math.Max(1, Math.Abs(p.Second)));
        double Worst(Tensor ours, double[] theirs) => ours.to(ScalarType.Float64).flatten().data<double>().ToArray().Zip(theirs).Max(p => Math.Abs(p.First - p.Second));
        var norms = official.GetProperty("final_meta_net_norms");
        double worstWeights = Worst(cocoop.Weights["ctx"], OfficialCell.Doubles(official.GetProperty("ctx")));
        foreach (var name in new[] { "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias" })
        {
            double ours = cocoop.Weights["meta_net." + name].to(ScalarType.Float64).norm().item<double>(), theirs = norms.GetProperty(name).GetDouble();
            worstWeights = Math.Max(worstWeights, Math.Abs(ours - theirs) / Math.Max(1, theirs));
        }
        var predictions = cell.Predict(cocoop);
        var officialPredictions = Longs(official.GetProperty("test_predictions"));
        var labels = cell.L("test_labels");
        output.WriteLine($"{file}: losses within {worstLoss:g2}, context and meta-net within {worstWeights:g2}; test {Accuracy(predictions, labels):F2}% " +
                         $"vs official {Accuracy(officialPredictions, labels):F2}%, {Differences(predictions, officialPredictions)}/{predictions.Length} predictions differ");
        Assert.True(worstLoss < 1e-4, $"{file}: an epoch's mean loss differs from the official by {worstLoss:g3} (relative)");
        Assert.True(worstWeights < 1e-3, $"{file}: the learned weights differ from the official by {worstWeights:g3}");
        Assert.Equal(officialPredictions, predictions);
    }
}
