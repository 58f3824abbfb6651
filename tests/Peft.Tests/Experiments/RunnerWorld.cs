using Peft.Data.Synthetic;
using Peft.Tests.Host;

namespace Peft.Tests.Experiments;

/// <summary>A tiny synthetic world (two 10- and 12-class tasks at 32 px) and a tiny random CLIP, made once for the runner tests.</summary>
public sealed class RunnerWorld : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("peft-runner-world-").FullName;
    public string Model { get; }

    public RunnerWorld()
    {
        SyntheticWorld.Generate(Path.Combine(Dir, "world"), new SyntheticWorldOptions
        {
            PretrainCount = 0, TrainPerClass = 4, ValPerClass = 2, TestPerClass = 3, ImageSize = 32,
        });
        Model = RandomClip.Save(Path.Combine(Dir, "model.safetensors"), RandomClip.SmallViT, seed: 3);
    }

    /// <summary>An experiment file over both tasks, shots 1 and 2, seed 1 (override with <paramref name="extra"/> JSON members).</summary>
    public string Experiment(string folder, string methods, string extra = "")
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "exp.json");
        File.WriteAllText(path, $$"""
            {
              "name": "runner-test",
              "backbone": { "model": "{{Model}}" },
              "datasets": [
                { "name": "shapes", "type": "coop_layout", "root": "{{Path.Combine(Dir, "world", "synth_shapes")}}" },
                { "name": "fine", "type": "coop_layout", "root": "{{Path.Combine(Dir, "world", "synth_fine")}}" }
              ],
              "shots": [1, 2], "seeds": [1], "trainViews": 2,
              "cache": "{{Path.Combine(Dir, "cache")}}",
              "output": "out",
              {{extra}}
              "methods": {{methods}}
            }
            """);
        return path;
    }

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}
