namespace Peft.Reporting.Statistics;

/// <summary>How a Wilcoxon signed-rank p-value was computed (SciPy ≥ 1.15 <c>method='auto'</c> names in brackets).</summary>
public enum WilcoxonPValueMethod
{
    /// <summary>No p-value: no pair, or every difference is zero.</summary>
    None,
    /// <summary>The exact null distribution of R+ ('exact'): n ≤ 50, no zeros, no ties.</summary>
    Exact,
    /// <summary>All 2ⁿ sign flips of the differences with average ranks (PermutationMethod): n ≤ 13 with zeros or ties.</summary>
    Permutation,
    /// <summary>Normal approximation with tie-corrected variance, no continuity correction ('asymptotic').</summary>
    Asymptotic,
}
