using Peft.Core.Tracking;
using Peft.Host.Experiments;
using Peft.Host.Plugins;
using Peft.Methods.ZeroShot;
using Peft.Tests.Cli;

namespace Peft.Tests.Experiments;

/// <summary>Cell costs recorded per machine and projected for cells not run yet (<c>peft plan</c>, the run's ETA).</summary>
public sealed class CostProjectionTests(RunnerWorld world) : TempDirectory("peft-costs-"), IClassFixture<RunnerWorld>
{
    const string Backbone = "tiny-clip.safetensors/fp32";

    static CellCost Cost(string method, string dataset, int shots, double seconds, int threads = 2, string backbone = Backbone) =>
        new(method, backbone, dataset, shots, 1, threads, seconds, "e");

    [Fact]
    public void A_cell_is_estimated_from_the_same_dataset_and_shots_else_scaled_by_shots_else_from_other_datasets()
    {
        var p = new CostProjection(
        [
            Cost("coop", "pets", 16, 10), Cost("coop", "pets", 16, 30), Cost("coop", "pets", 16, 12), // median 12
            Cost("coop", "cars", 4, 3),
            Cost("coop", "pets", 16, 1000, backbone: "ViT-B-16.pt/fp32"), // another backbone: never mixed in
        ], Backbone, threads: 2);

        Assert.Equal(new CostProjection.Estimate(12 * 3, "pets at 16 shots"), p.For("coop", "pets", 16, gridPoints: 3));
        Assert.Equal(new CostProjection.Estimate(6, "pets, scaled from 16 shots"), p.For("coop", "pets", 8, 1));
        Assert.Equal(new CostProjection.Estimate(3, "other datasets at 4 shots"), p.For("coop", "dtd", 4, 1));
        Assert.Equal(new CostProjection.Estimate(4.5, "other datasets, scaled from 4 shots"), p.For("coop", "dtd", 6, 1));
        Assert.Null(p.For("tip-adapter", "pets", 16, 1));
        Assert.Equal(4, p.Cells);
    }

    [Fact]
    public void Records_made_with_the_same_thread_count_are_preferred()
    {
        var p = new CostProjection([Cost("coop", "pets", 16, 40, threads: 1), Cost("coop", "pets", 16, 20, threads: 2)], Backbone, threads: 2);
        Assert.Equal(20, p.For("coop", "pets", 16, 1)!.Seconds);
        var other = new CostProjection([Cost("coop", "pets", 16, 40, threads: 1)], Backbone, threads: 8);
        Assert.Equal(40, other.For("coop", "pets", 16, 1)!.Seconds); // none at 8 threads: the others rather than nothing
    }

    [Fact]
    public void The_log_keeps_every_line_of_concurrent_writers_and_skips_damaged_ones()
    {
        var log = new CellCostLog(Temp("costs/cells.jsonl"));
        Assert.Empty(log.Read()); // no log yet
        Parallel.For(0, 8, w => { for (int i = 0; i < 100; i++) log.Append(Cost($"m{w}", "d", 1 + i, i)); });
        File.AppendAllText(log.Path, "{\"method\": \"cut sho\n\n[1, 2]\n");
        var costs = log.Read();
        Assert.Equal(800, costs.Count);
        Assert.All(Enumerable.Range(0, 8), w => Assert.Equal(100, costs.Count(c => c.Method == $"m{w}")));
    }

    [Fact]
    public void A_run_records_each_finished_cell_and_plan_projects_the_cells_left_from_them()
    {
        var catalog = MethodCatalog.From(new FakeMethods(), new ZeroShotPlugin());
        ExperimentSpec Spec(string folder) => new ExperimentReader(catalog) { CurrentDirectory = Dir }
            .Read(ExperimentConfiguration.Load(world.Experiment(Temp(folder), """{ "zero-shot": {}, "fake": { "correctClasses": [2, 8, 5] } }"""), [], new Dictionary<string, string>()));
        var log = new CellCostLog(Temp("home/costs/cells.jsonl"));
        var spec = Spec("a");
        new ExperimentRunner(spec, new InMemoryTracker()) { Log = TextWriter.Null, Costs = log }.Run();

        var costs = log.Read();
        var plan = new ExperimentPlan(spec).Cells;
        Assert.Equal(plan.Count, costs.Count);
        Assert.All(costs, c => Assert.Equal(CellCostLog.BackboneKey(spec.Backbone), c.Backbone));
        Assert.Equal(plan.Select(c => (c.Method, c.Dataset, c.Shots)).Order(), costs.Select(c => (c.Method, c.Dataset, c.Shots)).Order());
        var fakePoints = spec.Method("fake").PointsFor(plan[0].Dataset).Count;
        Assert.All(costs.Where(c => c.Method == "fake"), c => Assert.Equal(fakePoints, c.GridPoints));

        // The same grid in another folder, not run yet: every cell has an estimate, from this machine's records.
        var again = Spec("b");
        var rows = new CostProjection(costs, CellCostLog.BackboneKey(again.Backbone), TorchSharp.torch.get_num_threads()).Of(again, new ExperimentPlan(again).Cells);
        Assert.Equal(["fake", "zero-shot"], rows.Select(r => r.Method).Order());
        Assert.All(rows, r => Assert.Equal(0, r.Unknown));
        Assert.All(rows, r => Assert.True(r.Seconds > 0));

        var text = new StringWriter();
        ProjectedTime.Write(text, again, new ExperimentPlan(again).Cells, log, TorchSharp.torch.get_num_threads(), Shard.All);
        Assert.Contains($"from {costs.Count} cells it ran before", text.ToString());
        Assert.Matches(@"\n  zero-shot\s+\d+\s+\S+ s\s+\S+", text.ToString());
        Assert.Contains("  total: ", text.ToString());
    }

    [Fact]
    public void Plan_says_which_methods_never_ran_here()
    {
        var (code, stdout, stderr) = PeftProcess.Exec("dotnet", [PeftProcess.Dll, "plan", Path.Combine(PeftProcess.Repository, "experiments", "quickstart.json"), "--set", $"output={Temp("out")}"],
            PeftProcess.HangGuard, new Dictionary<string, string> { ["PEFT_HOME"] = Temp("empty-home") });
        Assert.True(code == 0, stderr);
        Assert.Contains("projected time on this machine", stdout);
        Assert.Contains("from 0 cells it ran before", stdout);
        Assert.Matches(@"\n  coop\s+\d+\s+\?\s+\?\s+never ran here with this backbone", stdout);
    }

    [Theory]
    [InlineData(0.42, "0.4 s")]
    [InlineData(12.4, "12 s")]
    [InlineData(554, "9 m 14 s")]
    [InlineData(7500, "2 h 05 m")]
    [InlineData(273600, "3 d 4 h")]
    public void Durations_read_at_a_glance(double seconds, string text) => Assert.Equal(text, ProjectedTime.Duration(seconds));
}
