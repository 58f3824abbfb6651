using Peft.Core;

namespace Peft.Host.Experiments;

/// <summary>A method of an experiment with its hyperparameter points (one point when no option is a grid).</summary>
public sealed record MethodSpec(string Name, MethodDescriptor Descriptor, IReadOnlyList<GridPoint> Points)
{
    public bool IsGrid => Points.Count > 1;
}
