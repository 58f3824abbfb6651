using Peft.Core.Tracking;
using Peft.Host.Experiments;
using Peft.Host.Plugins;
using Peft.Methods.ZeroShot;
using Peft.Results;

namespace Peft.Tests.Experiments;

/// <summary>
/// A run that stops on an error (not a failing cell: the whole invocation) ends every run it opened FAILED with the
/// error as tag <c>peft.error</c>; none stays RUNNING for the MLflow UI to show as in progress forever.
/// </summary>
public sealed class ErrorExitTests(RunnerWorld world) : TempDirectory("peft-error-exit-"), IClassFixture<RunnerWorld>
{
    ExperimentSpec Spec(params string[] sets) =>
        new ExperimentReader(MethodCatalog.From(new FakeMethods(), new ZeroShotPlugin())) { CurrentDirectory = Dir }
            .Read(ExperimentConfiguration.Load(world.Experiment(Temp("exp"), """{ "zero-shot": {} }"""), sets, new Dictionary<string, string>()));

    static void AssertNothingRunning(InMemoryTracker tracker, string error)
    {
        Assert.DoesNotContain(tracker.Runs, r => r.Status == RunStatus.Running);
        var parent = tracker.Runs.Last(r => r.Tags["peft.role"] == "parent");
        Assert.Equal(RunStatus.Failed, parent.Status);
        Assert.Contains(error, parent.Tags["peft.error"]);
    }

    [Fact]
    public void ABadModelEndsTheParentFailed()
    {
        File.WriteAllBytes(Temp("bad.safetensors"), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        var tracker = new InMemoryTracker();
        var e = Assert.ThrowsAny<Exception>(() => new ExperimentRunner(Spec($"backbone:model={Temp("bad.safetensors")}"), tracker) { Log = TextWriter.Null }.Run());
        Assert.Contains(Temp("bad.safetensors"), e.Message);
        AssertNothingRunning(tracker, Temp("bad.safetensors"));
    }

    [Fact]
    public void AReadOnlyOutputEndsTheCellAndTheParentFailed()
    {
        var output = NotWritableFolder();
        var tracker = new InMemoryTracker();
        var e = Assert.ThrowsAny<Exception>(() => new ExperimentRunner(Spec($"output={output}"), tracker) { Log = TextWriter.Null }.Run());
        Assert.True(e is IOException or UnauthorizedAccessException, e.ToString());
        AssertNothingRunning(tracker, e.Message);
        // The cell lease lives in the output folder, so a read-only output fails before a cell run opens; any cell run
        // that did open must have ended FAILED with the error.
        foreach (var cell in tracker.Runs.Where(r => r.Tags["peft.role"] == "cell"))
        {
            Assert.Equal(RunStatus.Failed, cell.Status);
            Assert.Contains(e.Message, cell.Tags["peft.error"]);
        }
    }

    [Fact]
    public void ACorruptResultFileStopsTheRunBeforeAParentIsOpened()
    {
        var spec = Spec();
        var tracker = new InMemoryTracker();
        Assert.Equal(0, new ExperimentRunner(spec, tracker) { Log = TextWriter.Null }.Run().ExitCode);
        var store = new LocalResultStore(spec.OutputDir);
        File.WriteAllText(store.ResultPath("shapes/1/1/zero-shot"), "{\"cell\": ");
        var e = Assert.Throws<InvalidDataException>(() => new ExperimentRunner(spec, tracker) { Log = TextWriter.Null }.Run());
        Assert.Contains(store.ResultPath("shapes/1/1/zero-shot"), e.Message);
        // The unreadable result stops the run before anything is logged: no second parent run was opened, and
        // nothing is left RUNNING.
        Assert.Equal(1, tracker.Runs.Count(r => r.Tags["peft.role"] == "parent"));
        Assert.DoesNotContain(tracker.Runs, r => r.Status == RunStatus.Running);
    }

    [Fact]
    public void ShotsAboveAClassSizeWarnOncePerDatasetAndShotsAndTagTheCells()
    {
        // The world has 4 training images per class: 8 shots take all 4 of every class.
        var spec = Spec("shots=[8]", "seeds=[1,2]");
        var tracker = new InMemoryTracker();
        var log = new StringWriter();
        Assert.Equal(0, new ExperimentRunner(spec, tracker) { Log = log }.Run().ExitCode);
        var warnings = log.ToString().Split('\n').Where(l => l.Contains("warning:")).ToList();
        Assert.Equal(2, warnings.Count); // one per dataset, not one per seed
        var shapes = Assert.Single(warnings, w => w.Contains("warning: shapes: 8 shots asked"));
        Assert.Contains("10 train class(es) have fewer: ", shapes);
        Assert.Contains(" 4, ", shapes);
        Assert.Contains("… (5 more)", shapes);
        foreach (var run in tracker.Runs.Where(r => r.Tags["peft.role"] == "cell"))
        {
            Assert.Equal(RunStatus.Finished, run.Status);
            Assert.StartsWith("train: '", run.Tags[TrackingNames.ShortClassesTag]);
            Assert.Contains(" 4/8", run.Tags[TrackingNames.ShortClassesTag]);
        }
        // Enough images: no warning, no tag.
        var enough = Spec("shots=[2]", "output=enough");
        var quiet = new StringWriter();
        var other = new InMemoryTracker();
        new ExperimentRunner(enough, other) { Log = quiet }.Run();
        Assert.DoesNotContain("warning:", quiet.ToString());
        Assert.DoesNotContain(other.Runs, r => r.Tags.ContainsKey(TrackingNames.ShortClassesTag));
    }

    /// <summary>A folder this process cannot create entries in: a mode-555 folder, or (as root, who ignores modes) sysfs.</summary>
    string NotWritableFolder()
    {
        var folder = Temp("read-only");
        Directory.CreateDirectory(folder);
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        if (!CanCreateIn(folder)) return Path.Combine(folder, "out");
        if (Directory.Exists("/sys") && !CanCreateIn("/sys")) return "/sys/peft-test-out";
        throw new InvalidOperationException("no folder on this machine refuses writes; cannot test a read-only output");
    }

    static bool CanCreateIn(string folder)
    {
        var probe = Path.Combine(folder, $"probe-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(probe);
            Directory.Delete(probe);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
