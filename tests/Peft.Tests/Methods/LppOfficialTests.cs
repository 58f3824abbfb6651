using System.Text.Json;
using Peft.Methods.LpPlusPlus;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

using static OfficialCell;

/// <summary>
/// LP++ against the official code (FereshteShakeri/FewShot-CLIP-Strong-Baseline f81054f9, methods/linear_probe_p2.py
/// run unmodified by <c>tools/reference/official_lpp.py</c> on the five committed cells, Fixtures/official/lpp.json).
/// Both sides train on augmented view 0 in the official run's (shuffled) order, start from the official run's
/// random bias, and must compute the same step sizes and initial multiplier, the same validation accuracy at every
/// epoch, pick the same epoch and predict the same test labels; trained to the end, the same multipliers.
/// </summary>
public class LppOfficialTests(ITestOutputHelper output)
{
    static readonly JsonElement Fixture = ReadFixture("lpp.json");

    public static TheoryData<string> Cells()
    {
        var data = new TheoryData<string>();
        foreach (var cell in Fixture.GetProperty("cells").EnumerateArray()) data.Add(cell.GetProperty("file").GetString()!);
        return data;
    }

    [Fact]
    public void FixtureNamesTheOfficialCodeAndItsEpochs()
    {
        Assert.Equal("f81054f995b060f8348d20e7306e15889b70c786", Fixture.GetProperty("official").GetString());
        Assert.Equal(new LpPlusPlusOptions().Epochs, Fixture.GetProperty("train_epoch").GetInt32());
        Assert.Equal(5, Fixture.GetProperty("cells").GetArrayLength());
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void LpPlusPlusComputesAndPredictsAsTheOfficialCode(string file)
    {
        using var scope = NewDisposeScope();
        using var clip = TinyClip();
        using var cell = new OfficialCell(file);
        var official = OfficialCell.CellOf(Fixture, file);
        var sink = new RecordingSink();
        var context = cell.Context(clip, sink, trainOrder: Longs(official.GetProperty("train_order")));
        var bias = tensor(official.GetProperty("initial_bias").EnumerateArray().Select(v => v.GetSingle()).ToArray());

        using var classifier = new LpPlusPlusMethod(new LpPlusPlusOptions()).Fit(context, bias);

        AssertRelative(official.GetProperty("lr_w").GetDouble(), sink.Values("lr_w").Single(), 1e-6, "lr_w");
        AssertRelative(official.GetProperty("lr_alpha").GetDouble(), sink.Values("lr_alpha").Single(), 1e-6, "lr_alpha");
        AssertRelative(official.GetProperty("init_alpha").GetDouble(), sink.Values("init_alpha").Single(), 1e-6, "init_alpha");
        var officialVal = official.GetProperty("val_accuracy").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var ourVal = sink.Series("val/accuracy").Select(a => 100 * a).ToArray();
        Assert.Equal(officialVal.Length, ourVal.Length);
        int firstDifferent = Enumerable.Range(0, ourVal.Length).FirstOrDefault(e => Math.Abs(officialVal[e] - ourVal[e]) > 1e-9, -1);
        Assert.True(firstDifferent < 0, $"{file}: validation accuracy differs first at epoch {firstDifferent}");
        Assert.Equal(official.GetProperty("best_epoch").GetInt32(), (int)sink.Values("best_epoch").Single());

        var predictions = cell.Predict(classifier);
        var expected = Longs(official.GetProperty("test_predictions"));
        int differences = Differences(expected, predictions);
        double accuracy = Accuracy(predictions, cell.L("test_labels"));
        output.WriteLine($"{file}: best epoch {sink.Values("best_epoch").Single()}, ours {accuracy:F2}% vs official " +
                         $"{official.GetProperty("test_accuracy").GetDouble():F2}%, {expected.Length - differences}/{expected.Length} equal predictions");
        Assert.Equal(expected, predictions);

        // The multipliers after the last epoch (select: last), against the official alpha_vec after training.
        using var last = new LpPlusPlusMethod(new LpPlusPlusOptions { Select = "last" }).Fit(cell.Context(clip, new RecordingSink(),
            trainOrder: Longs(official.GetProperty("train_order"))), bias);
        var alpha = last.Weights["alpha"].reshape(-1).data<float>().ToArray();
        var officialAlpha = official.GetProperty("final_alpha").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        double worst = alpha.Zip(officialAlpha).Max(p => Math.Abs(p.First - p.Second) / Math.Abs(p.Second));
        output.WriteLine($"{file}: final alpha within {worst:g2} (relative)");
        Assert.True(worst < 1e-5, $"{file}: final alpha differs from the official one by {worst:g3} (relative)");
    }

    static void AssertRelative(double expected, double actual, double tolerance, string what) =>
        Assert.True(Math.Abs(actual - expected) <= tolerance * Math.Abs(expected), $"{what}: official {expected:R}, ours {actual:R}");
}
