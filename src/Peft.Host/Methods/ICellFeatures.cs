using Peft.Core;
using static TorchSharp.torch;

namespace Peft.Host.Methods;

/// <summary>The features of one cell as the host holds them: what methods see (<see cref="ITaskFeatures"/>) plus the test split, for the host's evaluation only.</summary>
public interface ICellFeatures : ITaskFeatures, IDisposable
{
    Tensor TestFeatures();
    Tensor TestLabels { get; }
}
