using Peft.Testing;

namespace MyMethod.Tests;

public sealed class MyMethodTests
{
    [Fact]
    public void FitsASyntheticTaskBetterThanChance()
    {
        // Milliseconds: class-clustered features around a fake text encoder's class prompts, test features held out.
        using var task = SyntheticTask.Create(shots: 4);
        using var classifier = new MyMethodMethod(new MyMethodOptions()).Fit(task.Context);
        double chance = 100.0 / task.Context.Task.NumClasses;
        Assert.True(task.Accuracy(classifier) > chance, $"accuracy {task.Accuracy(classifier):F1}% (chance {chance:F1}%)");
        Assert.Equal([task.Context.Task.NumClasses], task.Metrics.Values("classes"));
    }

    [Fact]
    public void BadOptionsAreNamed() =>
        Assert.Contains(new MyMethodOptions { Scale = 0 }.Validate(), m => m.Contains("scale"));

    [Fact]
    public void RunsThroughTheHostOnTheSyntheticWorld()
    {
        // What `peft run` does, in process: the synthetic world's 10 shapes (generated once into ~/.cache/peft), the tiny
        // CLIP, 1 shot, 1 seed, next to zero-shot CLIP; accuracies on test images the method never sees.
        var run = HostRun.OnSyntheticWorld(new MyMethodPlugin(), "my-method");
        Assert.Equal(["my-method", "zero-shot"], run.Cells.Select(c => c.Method).Order());
        Assert.True(run.Accuracy("my-method") > 10, $"my-method {run.Accuracy("my-method"):F1}%, zero-shot {run.Accuracy("zero-shot"):F1}% (chance 10%)");
    }
}
