using System.Security.Cryptography;
using System.Text.Json;
using Peft.Methods.CoOp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

using static OfficialCell;

/// <summary>
/// CoOp against the official trainer on the official-comparison cells, with the shipped tiny CLIP's text tower on both
/// sides. The fixture (Fixtures/official/coop.json) was made by <c>tools/reference/official_coop.py</c>:
/// KaiyangZhou/CoOp's own <c>trainers/coop.py</c> (ff61507c) built by its own <c>build_model</c> and CLIP package, trained
/// by Dassl's <c>run_epoch</c>, SGD and scheduler (Dassl.pytorch c61a1b5) on the cells' cached views, context from
/// "a photo of a" (the ctxv1 configs; the random initialisation comes from PyTorch's global generator), sampler orders
/// from a generator seeded 1; the class token at the end, and on the 1-shot cell also in the middle and in front.
/// </summary>
public class CoOpOfficialTests(ITestOutputHelper output)
{
    static readonly JsonElement Fixture = ReadFixture("coop.json");

    public static TheoryData<string, string> Runs()
    {
        var data = new TheoryData<string, string>();
        foreach (var run in Fixture.GetProperty("runs").EnumerateArray())
            data.Add(run.GetProperty("file").GetString()!, run.GetProperty("coop").GetProperty("position").GetString()!);
        return data;
    }

    [Fact]
    public void FixtureNamesTheOfficialCode()
    {
        Assert.Equal("ff61507c790454bce7c5052c3ac39e60772f1f89", Fixture.GetProperty("official").GetProperty("coop").GetString());
        Assert.Equal("c61a1b570ac6333bd50fb5ae06aea59002fb20bb", Fixture.GetProperty("official").GetProperty("dassl").GetString());
        Assert.Equal(7, Fixture.GetProperty("runs").GetArrayLength());
    }

    /// <summary>Same schedule and orders; every epoch's loss within 1e-4 (relative), the context within 1e-3, every test prediction the same.</summary>
    [Theory]
    [MemberData(nameof(Runs))]
    public void TrainsAndPredictsAsTheOfficialCode(string file, string position)
    {
        using var scope = NewDisposeScope();
        using var clip = TinyClip();
        using var cell = new OfficialCell(file);
        var official = Fixture.GetProperty("runs").EnumerateArray()
            .Single(r => r.GetProperty("file").GetString() == file && r.GetProperty("coop").GetProperty("position").GetString() == position)
            .GetProperty("coop");
        var options = new CoOpOptions { CtxInit = "a photo of a", ClassTokenPosition = position };
        int epochs = options.EpochsFor(cell.Task.Shots);
        Assert.Equal(official.GetProperty("epochs").GetInt32(), epochs);
        Assert.Equal(official.GetProperty("lr").GetDouble(), options.Lr);
        Assert.Equal(official.GetProperty("batch_size").GetInt32(), options.BatchSize);

        long n = cell.L("train_labels").shape[0];
        var g = new Generator(1);
        var orders = Enumerable.Range(0, epochs).Select(_ => randperm(n, generator: g).data<long>().ToArray()).ToList();
        Assert.Equal(official.GetProperty("orders_sha256").GetString(),
            Convert.ToHexStringLower(SHA256.HashData(orders.SelectMany(o => o).SelectMany(BitConverter.GetBytes).ToArray())));

        var sink = new RecordingSink();
        using var coop = new CoOpMethod(options).Fit(cell.Context(clip, sink));
        var lrs = sink.Series("lr");
        var officialLrs = OfficialCell.Doubles(official.GetProperty("epoch_lrs"));
        Assert.Equal(officialLrs.Length, lrs.Length);
        for (int e = 0; e < lrs.Length; e++) Assert.True(Math.Abs(lrs[e] - officialLrs[e]) <= 1e-15, $"epoch {e}: lr {lrs[e]:R}, official {officialLrs[e]:R}");
        var losses = sink.Series("train_loss");
        var officialLosses = OfficialCell.Doubles(official.GetProperty("epoch_losses"));
        double worstLoss = losses.Zip(officialLosses).Max(p => Math.Abs(p.First - p.Second) / Math.Max(1, Math.Abs(p.Second)));
        var ctx = coop.Weights["ctx"].to(ScalarType.Float64).flatten().data<double>().ToArray();
        var officialCtx = OfficialCell.Doubles(official.GetProperty("ctx"));
        Assert.Equal(officialCtx.Length, ctx.Length);
        double worstCtx = ctx.Zip(officialCtx).Max(p => Math.Abs(p.First - p.Second));
        var predictions = cell.Predict(coop);
        var officialPredictions = Longs(official.GetProperty("test_predictions"));
        var labels = cell.L("test_labels");
        output.WriteLine($"{file} ({position}): losses within {worstLoss:g2}, context within {worstCtx:g2}; test {Accuracy(predictions, labels):F2}% " +
                         $"vs official {Accuracy(officialPredictions, labels):F2}%, {Differences(predictions, officialPredictions)}/{predictions.Length} predictions differ");
        Assert.True(worstLoss < 1e-4, $"{file}: an epoch's mean loss differs from the official by {worstLoss:g3} (relative)");
        Assert.True(worstCtx < 1e-3, $"{file}: the learned context differs from the official by {worstCtx:g3}");
        Assert.Equal(officialPredictions, predictions);
    }
}
