using System.Diagnostics;
using Peft.Data.Synthetic;

namespace Peft.Tests.Synthetic;

/// <summary>One small world (48 px, few images) generated once for the tests of <see cref="SyntheticWorldTests"/>.</summary>
public sealed class SyntheticWorldFixture : IDisposable
{
    public static readonly SyntheticWorldOptions Options = new()
    {
        Seed = 7, ImageSize = 48, PretrainCount = 300, TrainPerClass = 8, ValPerClass = 3, TestPerClass = 5,
    };

    public string Root { get; }
    public SyntheticWorldResult Result { get; }
    public TimeSpan Elapsed { get; }

    public SyntheticWorldFixture()
    {
        Root = Directory.CreateTempSubdirectory("peft-synth-").FullName;
        var clock = Stopwatch.StartNew();
        Result = SyntheticWorld.Generate(Path.Combine(Root, "world"), Options);
        Elapsed = clock.Elapsed;
    }

    public string World => Result.OutDir;

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
