using System.Text.Json;
using Peft.Core.Tracking;
using Peft.Tests.Cli;
using Peft.Tests.Experiments;
using Peft.Tracking.Mlruns;

namespace Peft.Tests.Integration;

/// <summary>
/// Issue 11 (standing goal): a disk that fills up during a run. The output folder sits on a small tmpfs (mounted
/// here, as root): the run must stop with a clear error and exit code, leave no half-written result and no run
/// RUNNING, and a rerun with space must complete every cell exactly once.
/// </summary>
[Trait("Category", "Integration")]
public sealed class DiskFullTests : TinyWorldDirectory
{
    public DiskFullTests() : base("peft-diskfull-") { }

    [Fact]
    public void A_full_disk_stops_the_run_with_a_clear_error_nothing_half_written_and_a_rerun_completes()
    {
        var small = Directory.CreateDirectory(Temp("small")).FullName;
        // Mounting needs root, as CI has.
        PeftProcess.Bash($"mount -t tmpfs -o size=16k tmpfs '{small}'", TimeSpan.FromMinutes(1));
        try
        {
            File.WriteAllText(Temp("exp.json"), $$"""
                {
                  "name": "disk-full", "backbone": { "model": "model.safetensors" },
                  "datasets": [ { "name": "shapes", "type": "coop_layout", "root": "world/synth_shapes" } ], "shots": [1, 2], "seeds": [1, 2],
                  "trainViews": 2, "cache": "cache", "output": "{{small}}/out", "tracking": { "uri": "mlruns" },
                  "methods": { "zero-shot": {}, "linear-probe": { "bisectionSteps": 0, "cGrid": [1, 100] }, "tip-adapter": { "augmentViews": 2, "searchStep": [10, 5] } }
                }
                """);
            var (code, _, stderr) = PeftProcess.Run("run", Temp("exp.json"));
            Assert.NotEqual(0, code);
            Assert.Contains("No space left on device", stderr);
            var errorLine = stderr.Split('\n').Last(l => l.Contains("No space left on device"));
            Assert.Contains(small, errorLine); // names the file it could not write

            // Nothing half-written: every result there is complete and intact; no run is left RUNNING.
            var results = Path.Combine(small, "out", "results");
            var written = Directory.Exists(results) ? Directory.GetFiles(results, "*", SearchOption.AllDirectories) : [];
            foreach (var file in written)
            {
                Assert.EndsWith(".json", file);
                var record = JsonDocument.Parse(File.ReadAllText(file)).RootElement;
                Assert.True(record.GetProperty("isIntact").GetBoolean(), file);
            }
            var reader = new MlrunsReader(Temp("mlruns"));
            var runs = reader.Runs(reader.FindExperiment("disk-full")!.ExperimentId);
            Assert.DoesNotContain(runs, r => r.Status == RunStatus.Running);
            Assert.InRange(written.Length, 0, 11); // 16 KB: the disk fills before every cell has its result
            Assert.Equal(RunStatus.Failed, Assert.Single(runs, r => r.Tags.GetValueOrDefault("peft.role") == "parent").Status);

            // Space again: the rerun completes, keeping what was finished, one FINISHED run per cell.
            PeftProcess.Bash($"mount -o remount,size=64m '{small}'", TimeSpan.FromMinutes(1));
            string stdout;
            (code, stdout, stderr) = PeftProcess.Run("run", Temp("exp.json"));
            Assert.True(code == 0, stderr);
            Assert.Contains($"{written.Length} already done", stderr);
            runs = reader.Runs(reader.FindExperiment("disk-full")!.ExperimentId);
            var finished = runs.Where(r => r.Tags.GetValueOrDefault("peft.role") == "cell" && r.Status == RunStatus.Finished)
                .GroupBy(r => r.Tags["peft.cell"]).ToList();
            Assert.Equal(12, finished.Count);
            Assert.All(finished, g => Assert.Single(g));
            Assert.DoesNotContain(runs, r => r.Status == RunStatus.Running);
            Assert.Equal(12, Directory.GetFiles(results, "*.json", SearchOption.AllDirectories).Length);
        }
        finally
        {
            PeftProcess.Exec("/bin/bash", ["-c", $"umount '{small}'"], TimeSpan.FromMinutes(1));
        }
    }
}
