using System.Security.Cryptography;
using System.Text.Json;
using Peft.Methods.KgCoOp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

using static OfficialCell;

/// <summary>
/// KgCoOp against the official trainer on the five official-comparison cells, with the shipped tiny CLIP's text tower on
/// both sides. The fixture (Fixtures/official/kgcoop.json) was made by <c>tools/reference/official_kgcoop.py</c>:
/// htyao89/KgCoOp's own <c>trainers/kgcoop.py</c> (c43ccc3) built by its own <c>build_model</c> with its CLIP package,
/// trained by its Dassl's <c>run_epoch</c>, SGD and scheduler on the cells' cached views, the RandomSampler order drawn
/// from a generator seeded 1.
/// </summary>
public class KgCoOpOfficialTests(ITestOutputHelper output)
{
    static readonly JsonElement Fixture = ReadFixture("kgcoop.json");

    public static TheoryData<string> Cells()
    {
        var data = new TheoryData<string>();
        foreach (var cell in Fixture.GetProperty("cells").EnumerateArray()) data.Add(cell.GetProperty("file").GetString()!);
        return data;
    }

    static JsonElement Official(string file) =>
        OfficialCell.CellOf(Fixture, file).GetProperty("kgcoop");

    [Fact]
    public void FixtureNamesTheOfficialCode()
    {
        Assert.Equal("c43ccc32c8739f64b165cfa205fcc6c0f5bb5b17", Fixture.GetProperty("official").GetProperty("kgcoop").GetString());
        Assert.Equal(5, Fixture.GetProperty("cells").GetArrayLength());
    }

    /// <summary>
    /// Same settings, batch orders and learning rates; every epoch's loss within 1e-4 (relative: the two text towers
    /// round differently, ours truncates the sequence under the causal mask), the learned context within 1e-3, and the
    /// same prediction for every test image.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cells))]
    public void TrainsAndPredictsAsTheOfficialCode(string file)
    {
        using var scope = NewDisposeScope();
        using var clip = TinyClip();
        using var cell = new OfficialCell(file);
        var official = Official(file);
        var options = new KgCoOpOptions();
        Assert.Equal(official.GetProperty("epochs").GetInt32(), options.Epochs);
        Assert.Equal(official.GetProperty("lr").GetDouble(), options.Lr);
        Assert.Equal(official.GetProperty("batch_size").GetInt32(), options.BatchSize);
        Assert.Equal(official.GetProperty("weight").GetDouble(), options.Weight);

        long n = cell.L("train_labels").shape[0];
        var g = new Generator(1);
        var orders = Enumerable.Range(0, options.Epochs).Select(_ => randperm(n, generator: g).data<long>().ToArray()).ToList();
        Assert.Equal(official.GetProperty("first_orders").EnumerateArray().Select(Longs).First(), orders[0]);
        Assert.Equal(official.GetProperty("orders_sha256").GetString(),
            Convert.ToHexStringLower(SHA256.HashData(orders.SelectMany(o => o).SelectMany(BitConverter.GetBytes).ToArray())));

        var sink = new RecordingSink();
        using var kgcoop = new KgCoOp(options).Fit(cell.Context(clip, sink));
        var lrs = sink.Series("lr");
        var officialLrs = OfficialCell.Doubles(official.GetProperty("epoch_lrs"));
        Assert.Equal(officialLrs.Length, lrs.Length);
        for (int e = 0; e < lrs.Length; e++) Assert.True(Math.Abs(lrs[e] - officialLrs[e]) <= 1e-15, $"epoch {e}: lr {lrs[e]:R}, official {officialLrs[e]:R}");

        var losses = sink.Series("train_loss");
        var officialLosses = OfficialCell.Doubles(official.GetProperty("epoch_losses"));
        double worstLoss = losses.Zip(officialLosses).Max(p => Math.Abs(p.First - p.Second) / Math.Max(1, Math.Abs(p.Second)));
        var ctx = kgcoop.Weights["ctx"].to(ScalarType.Float64).flatten().data<double>().ToArray();
        var officialCtx = OfficialCell.Doubles(official.GetProperty("ctx"));
        Assert.Equal(officialCtx.Length, ctx.Length);
        double worstCtx = ctx.Zip(officialCtx).Max(p => Math.Abs(p.First - p.Second));
        var predictions = cell.Predict(kgcoop);
        var officialPredictions = Longs(official.GetProperty("test_predictions"));
        var labels = cell.L("test_labels");
        output.WriteLine($"{file}: losses within {worstLoss:g2} (final {losses[^1]:F4} vs {officialLosses[^1]:F4}), context within {worstCtx:g2}; " +
                         $"test {Accuracy(predictions, labels):F2}% vs official {Accuracy(officialPredictions, labels):F2}%, " +
                         $"{Differences(predictions, officialPredictions)}/{predictions.Length} predictions differ");
        Assert.True(worstLoss < 1e-4, $"{file}: an epoch's mean loss differs from the official by {worstLoss:g3} (relative)");
        Assert.True(worstCtx < 1e-3, $"{file}: the learned context differs from the official by {worstCtx:g3}");
        Assert.Equal(officialPredictions, predictions);
    }
}
