using static TorchSharp.torch;

namespace Peft.Core;

/// <summary>
/// <see cref="ITaskFeatures"/> over tensors already in memory (tests, pre-extracted features). Views beyond those
/// given are an error: a method must not ask for more views than the experiment provides.
/// </summary>
public sealed class InMemoryTaskFeatures(Tensor trainFeatures, Tensor trainLabels, Tensor trainViews, Tensor valFeatures, Tensor valLabels)
    : ITaskFeatures
{
    public int Dim => (int)trainFeatures.shape[1];
    public Tensor TrainLabels => trainLabels;
    public Tensor ValLabels => valLabels;
    public Tensor TrainFeatures() => trainFeatures;
    public Tensor ValFeatures() => valFeatures;

    public Tensor TrainViews(int views)
    {
        if (views < 1 || views > trainViews.shape[0])
            throw new ArgumentOutOfRangeException(nameof(views), $"{views} training views asked for, {trainViews.shape[0]} available");
        return trainViews.narrow(0, 0, views);
    }
}
