using Peft.Host.Experiments;
using Peft.Host.Plugins;

namespace Peft.Tests.Experiments;

public sealed class ExperimentPlanTests
{
    static ExperimentSpec Spec(int datasets, int[] shots, int[] seeds, params string[] methods)
    {
        var catalog = MethodCatalog.From(new FakeMethods());
        var descriptor = catalog.Get("fake");
        return new ExperimentSpec
        {
            Name = "plan", SourcePath = "/x.json", Backbone = new BackboneSpec("/m", "fp32", "clip"),
            Datasets = Enumerable.Range(0, datasets).Select(i => new DatasetSpec($"d{i}", "imagefolder", "/d")).ToList(),
            Shots = shots, Seeds = seeds,
            Methods = methods.Select(m => new MethodSpec(m, descriptor, [])).ToList(),
            Tracking = new TrackingSpec("/mlruns", "plan"), OutputDir = "/out", CacheDir = "/cache",
        };
    }

    [Fact]
    public void CellsComeInDatasetShotsSeedMethodOrder()
    {
        var cells = new ExperimentPlan(Spec(2, [1, 4], [1, 2], "a", "b")).Cells;
        Assert.Equal(16, cells.Count);
        Assert.Equal(["d0/1/1/a", "d0/1/1/b", "d0/1/2/a", "d0/1/2/b", "d0/4/1/a"], cells.Take(5).Select(c => c.Key));
        Assert.Equal("d1/4/2/b", cells[^1].Key);
        Assert.Equal(Enumerable.Range(0, 16), cells.Select(c => c.Index));
    }

    [Theory]
    [InlineData(2, 3)]   // more groups than shards: whole groups round-robin
    [InlineData(1, 7)]   // fewer groups than shards: contiguous ranges
    [InlineData(3, 4)]
    [InlineData(1, 1)]
    public void ShardsAreDisjointCoverEveryCellAreBalancedAndStable(int datasets, int shardCount)
    {
        var spec = Spec(datasets, [1, 2], [1, 2], "a", "b", "c");
        var plan = new ExperimentPlan(spec);
        var shares = Enumerable.Range(0, shardCount).Select(i => plan.CellsOf(new Shard(i, shardCount))).ToList();
        var all = shares.SelectMany(s => s).Select(c => c.Key).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(plan.Cells.Select(c => c.Key).Order(), all.Order());
        var groups = plan.Cells.GroupBy(c => c.Group).Count();
        int maxImbalance = groups >= shardCount ? 3 : 1; // a group of 3 methods, or one cell
        Assert.InRange(shares.Max(s => s.Count) - shares.Min(s => s.Count), 0, maxImbalance);
        if (groups >= shardCount) // a group's methods stay together
            Assert.All(shares, s => Assert.All(s.GroupBy(c => c.Group), g => Assert.Equal(3, g.Count())));
        // Another process computes the same shares.
        var again = Enumerable.Range(0, shardCount).Select(i => new ExperimentPlan(spec).CellsOf(new Shard(i, shardCount)).Select(c => c.Key)).ToList();
        Assert.Equal(shares.Select(s => s.Select(c => c.Key)), again);
    }

    [Fact]
    public void TheShardComesFromTheOptionOrTheSchedulersEnvironment()
    {
        static Func<string, string?> Env(params (string, string)[] vars) => name => vars.FirstOrDefault(v => v.Item1 == name).Item2;
        Assert.Equal(new Shard(2, 4), Shard.Resolve("2/4", null, Env(("JOB_COMPLETION_INDEX", "0"))));
        Assert.Equal(Shard.All, Shard.Resolve(null, null, Env()));
        Assert.Equal(new Shard(3, 5), Shard.Resolve(null, null, Env(("JOB_COMPLETION_INDEX", "3"), ("PEFT_SHARD_COUNT", "5"))));
        Assert.Equal(new Shard(3, 6), Shard.Resolve(null, 6, Env(("JOB_COMPLETION_INDEX", "3"), ("PEFT_SHARD_COUNT", "5"))));
        Assert.Equal(new Shard(2, 4), Shard.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", "7"), ("SLURM_ARRAY_TASK_MIN", "5"), ("SLURM_ARRAY_TASK_COUNT", "4"))));
        Assert.Contains("PEFT_SHARD_COUNT", Assert.Throws<ArgumentException>(() => Shard.Resolve(null, null, Env(("JOB_COMPLETION_INDEX", "1")))).Message);
        Assert.Contains("outside 0..3", Assert.Throws<ArgumentException>(() => Shard.Parse("4/4")).Message);
        Assert.Contains("expected i/N", Assert.Throws<ArgumentException>(() => Shard.Parse("1-4")).Message);
    }
}
