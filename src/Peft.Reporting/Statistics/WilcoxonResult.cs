namespace Peft.Reporting.Statistics;

/// <summary>
/// A two-sided Wilcoxon signed-rank test: <see cref="Statistic"/> = min(R+, R−) as SciPy reports it,
/// <see cref="NonZero"/> the differences left after dropping zeros.
/// </summary>
public sealed record WilcoxonResult(double Statistic, double PValue, int NonZero, WilcoxonPValueMethod Method);
