using System.Security.Cryptography;
using System.Text.Json;
using Peft.Clip.Text;
using Peft.Core;
using Peft.Methods.TaskRes;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

using static OfficialCell;

/// <summary>
/// TaskRes against the official trainer on the five official-comparison cells. The fixture (Fixtures/official/taskres.json)
/// was made by <c>tools/reference/official_taskres.py</c>: geekyutao/TaskRes's own <c>trainers/taskres.py</c>
/// (5195359) trained by Dassl's own <c>run_epoch</c>, optimiser and scheduler builders (Dassl.pytorch c61a1b5) on the
/// cells' cached views, with the RandomSampler order drawn from a generator seeded 1.
/// </summary>
public class TaskResOfficialTests(ITestOutputHelper output)
{
    static readonly JsonElement Fixture = ReadFixture("taskres.json");

    public static TheoryData<string> Cells()
    {
        var data = new TheoryData<string>();
        foreach (var cell in Fixture.GetProperty("cells").EnumerateArray()) data.Add(cell.GetProperty("file").GetString()!);
        return data;
    }

    static JsonElement Official(string file) =>
        OfficialCell.CellOf(Fixture, file).GetProperty("taskres");

    [Fact]
    public void FixtureNamesTheOfficialCode()
    {
        Assert.Equal("5195359661d6bef661090c33b81aacfc7d7cc181", Fixture.GetProperty("official").GetProperty("taskres").GetString());
        Assert.Equal("c61a1b570ac6333bd50fb5ae06aea59002fb20bb", Fixture.GetProperty("official").GetProperty("dassl").GetString());
        Assert.Equal(5, Fixture.GetProperty("cells").GetArrayLength());
    }

    /// <summary>
    /// Same schedule (train_regular.sh's config for the shot count, Dassl's warm-up + cosine), same batch order (our
    /// generator draws what PyTorch's drew), same losses epoch by epoch, same test predictions.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cells))]
    public void TrainsAndPredictsAsTheOfficialCode(string file)
    {
        using var scope = NewDisposeScope();
        using var clip = TinyClip();
        using var cell = new OfficialCell(file);
        var official = Official(file);

        // The base classifier starts from the unnormalised text features the official script was given.
        using var embeddings = TextClassifier.Embeddings(clip.Model, ClipTokenizer.Default, cell.Task.ClassNames, cell.Task.Templates);
        Assert.Equal(0.0, (embeddings - cell.F("text_embeddings")).abs().max().item<float>());
        Assert.Equal(Fixture.GetProperty("logit_scale").GetDouble(), clip.Model.LogitScale, 5);

        var options = new TaskResOptions();
        int epochs = options.EpochsFor(cell.Task.Shots);
        Assert.Equal(official.GetProperty("epochs").GetInt32(), epochs);
        Assert.Equal(official.GetProperty("lr").GetDouble(), options.Lr);
        Assert.Equal(official.GetProperty("weight_decay").GetDouble(), options.WeightDecay);
        Assert.Equal(official.GetProperty("batch_size").GetInt32(), options.BatchSize);
        Assert.Equal(official.GetProperty("scale").GetDouble(), options.Scale);

        // The RandomSampler orders: one randperm per epoch from the cell's generator (seed 1), as the plugin draws them.
        long n = cell.L("train_labels").shape[0];
        var g = new Generator(1);
        var orders = Enumerable.Range(0, epochs).Select(_ => randperm(n, generator: g).data<long>().ToArray()).ToList();
        var first = official.GetProperty("first_orders").EnumerateArray().Select(Longs).ToList();
        Assert.Equal(first[0], orders[0]);
        Assert.Equal(first[1], orders[1]);
        Assert.Equal(official.GetProperty("orders_sha256").GetString(),
            Convert.ToHexStringLower(SHA256.HashData(orders.SelectMany(o => o).SelectMany(BitConverter.GetBytes).ToArray())));

        var sink = new RecordingSink();
        using var taskres = new TaskRes(options).Fit(cell.Context(clip, sink));
        var lrs = sink.Series("train/lr");
        var officialLrs = OfficialCell.Doubles(official.GetProperty("epoch_lrs"));
        Assert.Equal(officialLrs.Length, lrs.Length);
        for (int e = 0; e < lrs.Length; e++) Assert.True(Math.Abs(lrs[e] - officialLrs[e]) <= 1e-15, $"epoch {e}: lr {lrs[e]:R}, official {officialLrs[e]:R}");

        var losses = sink.Series("train/loss");
        var officialLosses = OfficialCell.Doubles(official.GetProperty("epoch_losses"));
        double worst = losses.Zip(officialLosses).Max(p => Math.Abs(p.First - p.Second) / Math.Max(1, Math.Abs(p.Second)));
        var predictions = cell.Predict(taskres);
        var officialPredictions = Longs(official.GetProperty("test_predictions"));
        var labels = cell.L("test_labels");
        output.WriteLine($"{file}: {epochs} epochs, losses within {worst:g2} (final {losses[^1]:F4} vs {officialLosses[^1]:F4}); " +
                         $"test {Accuracy(predictions, labels):F2}% vs official {Accuracy(officialPredictions, labels):F2}%, " +
                         $"{Differences(predictions, officialPredictions)}/{predictions.Length} predictions differ");
        Assert.True(worst < 1e-4, $"{file}: an epoch's mean loss differs from the official by {worst:g3} (relative)");
        Assert.Equal(officialPredictions, predictions);
    }
}
