using Peft.Core.Tracking;
using Peft.Tests.Cli;
using Peft.Tests.Experiments;
using Peft.Tracking.Mlruns;

namespace Peft.Tests.Integration;

/// <summary>
/// Issue 10.3: the repository's Slurm script (experiments/slurm/peft-array.sh) submitted as a 2-task job array to a
/// real single-node Slurm 22.05 (../shared/slurm, started here as root): each task runs its share of the grid without
/// --shard, every cell finishes exactly once, and a resubmission runs nothing.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SlurmArrayTests : TinyWorldDirectory
{
    public SlurmArrayTests() : base("peft-slurm-") { }

    static string SlurmHome
    {
        get
        {
            var home = Path.GetFullPath(Path.Combine(RealMlflow.Home, "..", "slurm"));
            if (!File.Exists(Path.Combine(home, "start-slurm.sh"))) throw new InvalidOperationException($"the real Slurm is not at {home}");
            return home;
        }
    }

    /// <summary>Submits the array and waits (bounded) until none of its tasks is left in the queue; returns the job id.</summary>
    string SubmitAndWait(string output)
    {
        var env = new Dictionary<string, string>
        {
            ["PEFT_HOME"] = Temp("home"), ["MLFLOW_TRACKING_URI"] = Temp("mlruns"), ["PEFT_EXPERIMENT"] = Temp("exp.json"),
            ["PEFT_COMMAND"] = $"dotnet {PeftProcess.Dll}", ["PEFT_RUN_ARGS"] = "",
        };
        var script = Path.Combine(PeftProcess.Repository, "experiments", "slurm", "peft-array.sh");
        var job = PeftProcess.Bash($"cd '{PeftProcess.Repository}' && sbatch --parsable --array=0-1 --cpus-per-task=1 --mem=3G " +
                       $"--output='{output}/task-%a.out' '{script}'", TimeSpan.FromMinutes(1), env).Trim();
        Assert.Matches("^[0-9]+$", job);
        PeftProcess.Bash($"for i in $(seq 1 600); do [ -z \"$(squeue -h -j {job} 2>/dev/null)\" ] && exit 0; sleep 0.5; done; " +
             $"echo 'job {job} still queued after 5 min'; squeue -j {job}; scontrol show job {job}; exit 1", TimeSpan.FromMinutes(6));
        return job;
    }

    [Fact]
    public void A_two_task_job_array_runs_each_share_once_and_a_resubmission_runs_nothing()
    {
        PeftProcess.Bash($"'{SlurmHome}/start-slurm.sh'", TimeSpan.FromMinutes(5));
        try
        {
            File.WriteAllText(Temp("exp.json"), $$"""
                {
                  "name": "slurm-test", "backbone": { "model": "model.safetensors" },
                  "datasets": [ { "name": "shapes", "type": "coop_layout", "root": "world/synth_shapes" },
                                { "name": "fine", "type": "coop_layout", "root": "world/synth_fine" } ],
                  "shots": [1, 2], "seeds": [1], "trainViews": 2, "cache": "cache", "output": "out",
                  "tracking": { "uri": "mlruns" },
                  "methods": { "zero-shot": {}, "linear-probe": { "bisectionSteps": 0, "cGrid": [1, 100] } }
                }
                """);
            Directory.CreateDirectory(Temp("first"));
            SubmitAndWait(Temp("first"));
            var logs = Enumerable.Range(0, 2).Select(i => File.ReadAllText(Temp($"first/task-{i}.out"))).ToArray();

            var reader = new MlrunsReader(Temp("mlruns"));
            var runs = reader.Runs(reader.FindExperiment("slurm-test")!.ExperimentId);
            var parents = runs.Where(r => r.Tags.GetValueOrDefault("peft.role") == "parent").ToList();
            Assert.Equal(new[] { "0/2", "1/2" }, parents.Select(p => p.Tags["peft.shard"]).Order());
            Assert.All(parents, p => Assert.Equal(RunStatus.Finished, p.Status));
            var cells = runs.Where(r => r.Tags.GetValueOrDefault("peft.role") == "cell").ToList();
            Assert.Equal(8, cells.Count); // 2 datasets x 2 shots x 1 seed x 2 methods
            Assert.Equal(8, cells.Select(c => c.Tags["peft.cell"]).Distinct().Count());
            Assert.All(cells, c => Assert.Equal(RunStatus.Finished, c.Status));
            // Each task ran only its own share: its cells hang under its own parent, and it said so.
            foreach (var parent in parents)
            {
                var mine = cells.Where(c => c.Tags["mlflow.parentRunId"] == parent.RunId).ToList();
                Assert.Equal(4, mine.Count);
                Assert.All(mine, c => Assert.Equal(parent.Tags["peft.shard"], c.Tags["peft.shard"]));
            }
            Assert.Equal(8, Directory.GetFiles(Temp("out/results"), "*.json", SearchOption.AllDirectories).Length);
            Assert.All(logs, log => Assert.Contains("4 cells run", log));

            // Resubmitted: every task finds its share done.
            Directory.CreateDirectory(Temp("second"));
            SubmitAndWait(Temp("second"));
            foreach (int i in new[] { 0, 1 })
                Assert.Contains("0 cells run, 4 already done", File.ReadAllText(Temp($"second/task-{i}.out")));
            Assert.Equal(8, reader.Runs(reader.FindExperiment("slurm-test")!.ExperimentId).Count(r => r.Tags.GetValueOrDefault("peft.role") == "cell"));
        }
        finally
        {
            PeftProcess.Exec("/bin/bash", [$"{SlurmHome}/stop-slurm.sh"], TimeSpan.FromMinutes(1));
        }
    }
}
