using static TorchSharp.torch;

namespace Peft.Core.Encoders;

/// <summary>A trainable term added to a frozen linear map's output (<see cref="LinearSite"/>).</summary>
public interface ILinearDelta
{
    /// <summary>Δ(x) for the map's input x [..., In]: a tensor [..., Out] or one that broadcasts to it ([Out] for a bias
    /// shift). The site casts it to the tower's compute type and adds it.</summary>
    Tensor Delta(Tensor input);
}

/// <summary>Trainable shifts of a frozen LayerNorm's affine parameters (<see cref="NormSite"/>); either may be null.</summary>
public interface INormDelta
{
    Tensor? Weight { get; }
    Tensor? Bias { get; }
}

/// <summary>A transform of the token sequence [N, L, Width] at a <see cref="TokenSite"/> (prompt insertion or replacement).</summary>
public interface ITokenTransform
{
    Tensor Transform(Tensor tokens);
}
