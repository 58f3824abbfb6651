using Peft.Core;

namespace Peft.Methods.LinearProbe;

/// <summary>
/// Options of the linear probe. Defaults are CoOp's <c>lpclip/linear_probe.py</c> (KaiyangZhou/CoOp ff61507c), which
/// follows the CLIP paper's appendix A.3, with scikit-learn's <c>LogisticRegression</c> defaults where lpclip leaves
/// them unset.
/// </summary>
public sealed record LinearProbeOptions : IMethodOptions
{
    /// <summary>Coarse grid of inverse regularisation strengths C, scored by few-shot validation accuracy, in this order
    /// (the first maximum wins, as <c>np.argmax</c>): lpclip's <c>search_list</c>.</summary>
    public double[] CGrid { get; init; } = [1e6, 1e4, 1e2, 1, 1e-2, 1e-4, 1e-6];

    /// <summary>Steps of the log-space bisection on [0.1·C*, 10·C*] after the grid: lpclip's <c>--num_step</c> default 8.
    /// 0 keeps the grid's best C.</summary>
    public int BisectionSteps { get; init; } = 8;

    /// <summary>L-BFGS iteration limit per fit: lpclip passes <c>max_iter=1000</c>.</summary>
    public int MaxIterations { get; init; } = 1000;

    /// <summary>Stop when max_i |∂f/∂θ_i| ≤ tolerance: scikit-learn's <c>tol=1e-4</c> default (passed to scipy's
    /// L-BFGS-B as <c>gtol</c>), on sklearn's objective Σ CE + ‖W‖²/(2C).</summary>
    public double Tolerance { get; init; } = 1e-4;

    /// <summary>A fixed C: skips the search (not in lpclip; for ablations and the OpenAI README's C = 0.316 example).</summary>
    public double? C { get; init; }

    public IEnumerable<string> Validate()
    {
        if (CGrid is null || CGrid.Length == 0) yield return "cGrid must hold at least one value";
        else if (CGrid.Any(c => !(c > 0) || double.IsInfinity(c)))
            yield return $"cGrid values must be positive and finite, got [{string.Join(", ", CGrid)}]";
        if (BisectionSteps < 0) yield return $"bisectionSteps must be >= 0, got {BisectionSteps}";
        if (MaxIterations < 1) yield return $"maxIterations must be >= 1, got {MaxIterations}";
        if (!(Tolerance > 0) || double.IsInfinity(Tolerance)) yield return $"tolerance must be positive, got {Tolerance}";
        if (C is { } c && (!(c > 0) || double.IsInfinity(c))) yield return $"c must be positive and finite, got {c}";
    }
}
