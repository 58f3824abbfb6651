using System.Text.Json;
using Peft.Data.Datasets;
using Peft.Data.Splits;

namespace Peft.Tests.Splits;

/// <summary>FewShotSampler against Dassl's generate_fewshot_dataset run by CPython (Fixtures/splits/fewshot.json).</summary>
public class FewShotSamplerTests
{
    static JsonElement F => SplitFixtures.FewShot;

    public static TheoryData<int> Draws()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < F.GetProperty("draws").GetArrayLength(); i++)
            data.Add(i);
        return data;
    }

    [Fact]
    public void FixtureWasCrossCheckedWithDasslAndCoversTheProtocol()
    {
        Assert.True(F.GetProperty("dassl_cross_check").GetBoolean(), "regenerate the fixtures with --dassl-src");
        var ds = SplitFixtures.FakeDataset();
        var firstAppearance = FewShotSampler.GroupByLabelInFirstAppearanceOrder(ds.Train).Select(g => g[0].Label).ToList();
        Assert.NotEqual(firstAppearance.Order().ToList(), firstAppearance); // labels are not in sorted order
        Assert.Contains(ds.Train.GroupBy(i => i.Label), g => g.Count() < 4); // classes smaller than K
        Assert.Contains(ds.Train.GroupBy(i => i.Label), g => g.Count() > 85); // set-based sample() at K = 16
        var combos = F.GetProperty("draws").EnumerateArray()
            .Select(d => (d.GetProperty("shots").GetInt32(), d.GetProperty("seed").GetInt32())).ToHashSet();
        foreach (int k in new[] { 1, 2, 4, 8, 16 })
            foreach (int s in new[] { 1, 2, 3 })
                Assert.Contains((k, s), combos);
    }

    [Theory]
    [MemberData(nameof(Draws))]
    public void DrawMatchesDassl(int index)
    {
        var d = F.GetProperty("draws")[index];
        var ds = SplitFixtures.FakeDataset();
        int shots = d.GetProperty("shots").GetInt32(), valShots = d.GetProperty("val_shots").GetInt32();
        var request = new FewShotRequest(shots, d.GetProperty("seed").GetInt32(),
            ValShots: valShots == Math.Min(shots, 4) ? null : valShots);
        var result = FewShotSampler.Sample(ds, request);
        Assert.Equal(SplitFixtures.Ints(d.GetProperty("train")).Select(i => ds.Train[i]), result.Train);
        Assert.Equal(SplitFixtures.Ints(d.GetProperty("val")).Select(i => ds.Val[i]), result.Val);
    }

    [Fact]
    public void ShortClassesTakeEverythingAndAreReported()
    {
        var ds = SplitFixtures.FakeDataset();
        var result = FewShotSampler.Sample(ds, new FewShotRequest(16, 1));
        var trainCounts = ds.Train.GroupBy(i => i.Label).ToDictionary(g => g.Key, g => g.Count());
        foreach (var g in result.Train.GroupBy(i => i.Label))
            Assert.Equal(Math.Min(16, trainCounts[g.Key]), g.Count());
        var expected = FewShotSampler.GroupByLabelInFirstAppearanceOrder(ds.Train).Where(g => g.Count < 16)
            .Select(g => new ShortClass("train", g[0].Label, g[0].ClassName, g.Count, 16));
        Assert.Equal(expected, result.ShortClasses.Where(s => s.Split == "train"));
        // A short class keeps its items in list order (Dassl appends the group as it is).
        var ibis = ds.Train.Where(i => i.Label == 8).ToList(); // 3 items
        Assert.Equal(ibis, result.Train.Where(i => i.Label == 8));
    }

    [Fact]
    public void ValShotsZeroKeepsValidationWholeAndDrawsNothing()
    {
        var ds = SplitFixtures.FakeDataset();
        var whole = FewShotSampler.Sample(ds, new FewShotRequest(4, 7, ValShots: 0));
        Assert.Equal(ds.Val, whole.Val);
        Assert.DoesNotContain(whole.ShortClasses, s => s.Split == "val");
    }

    [Fact]
    public void SeedAndShotsChangeTheDraw()
    {
        var ds = SplitFixtures.FakeDataset();
        var a = FewShotSampler.Sample(ds, new FewShotRequest(4, 1)).Train;
        Assert.NotEqual(a, FewShotSampler.Sample(ds, new FewShotRequest(4, 2)).Train);
        Assert.Equal(a, FewShotSampler.Sample(ds, new FewShotRequest(4, 1)).Train);
    }

    [Fact]
    public void RejectsBadRequests()
    {
        var ds = SplitFixtures.FakeDataset();
        Assert.Contains("at least 1", Assert.Throws<ArgumentException>(() => FewShotSampler.Sample(ds, new FewShotRequest(0, 1))).Message);
        Assert.Throws<ArgumentException>(() => FewShotSampler.Sample(ds, new FewShotRequest(1, 1, SamplingMode.Imported)));
    }

    [Fact]
    public void GroupingFollowsFirstAppearance()
    {
        DatasetItem I(string p, int l) => new(p, l, $"c{l}");
        var groups = FewShotSampler.GroupByLabelInFirstAppearanceOrder([I("a", 2), I("b", 0), I("c", 2), I("d", 1), I("e", 0)]);
        Assert.Equal([2, 0, 1], groups.Select(g => g[0].Label));
        Assert.Equal(["a", "c"], groups[0].Select(i => i.ImagePath));
    }
}
