using Peft.Reporting.Statistics;
using Peft.Results;

namespace Peft.Reporting.Writers;

/// <summary>The report's prose, shared by the Markdown and HTML writers so both say the same thing.</summary>
static class ReportText
{
    public static string Intro(ExperimentSummary s) =>
        $"Test accuracies in percent, mean ± sample standard deviation (n − 1) over seeds, from {s.Grid.Cells.Count} cells. " +
        "The best value of each column is in bold. A missing value is shown as —, with a note saying why." +
        (s.Grid.HasOracle ? " " + Peft.Results.ExperimentProtocol.OracleNote : "");

    public const string AverageConvention =
        "The average over datasets is the mean over datasets of the per-dataset means; its ± is the sample standard " +
        "deviation over seeds of the dataset-averaged accuracy (computed per seed, from the seeds present on every dataset). " +
        "A method missing on any dataset at some shots has no average there: it is never averaged over fewer datasets.";

    public static string ComparisonConvention(ExperimentSummary s) =>
        $"Each method against {s.Baseline} on test top-1, paired by (dataset, seed) at each shots value and by " +
        "(dataset, shots, seed) over all shots. Mean Δ = method − baseline in percentage points. A tie is a zero " +
        $"difference (differences rounded to 1e-{PairedComparisons.DifferenceDecimals} points). " +
        "Sign test: two-sided exact binomial test on wins vs losses, ties dropped (scipy.stats.binomtest). " +
        "Wilcoxon: two-sided signed-rank test with SciPy ≥ 1.15 defaults (zero_method='wilcox': zero differences dropped; " +
        $"no continuity correction; exact null distribution for up to {WilcoxonSignedRankTest.ExactMaxPairs} pairs without " +
        $"zeros or ties, exact permutation test for up to {WilcoxonSignedRankTest.PermutationMaxPairs} pairs with them, " +
        "else the normal approximation with tie-corrected variance). p-values are not corrected for multiple comparisons.";

    public static string VerdictConvention(ExperimentSummary s) =>
        $"The best method at each shots value on the average over datasets; Δ is its mean difference to {s.Baseline} " +
        "over the paired (dataset, seed) cells in percentage points, with the 95% Student t confidence interval of that " +
        "mean; the paired tests (below) support it when both the sign test and the Wilcoxon test give p < 0.05 " +
        "(not corrected for multiple comparisons).";

    public static string SingleMethod(ExperimentSummary s) =>
        $"Only one method ({s.Grid.Methods[0]}) has results: there is nothing to compare it with.";

    public static string MeanPerClassEqual(string? dataset) =>
        $"Mean-per-class accuracy equals top-1 in every cell{(dataset is null ? "" : $" of {dataset}")} (balanced test " +
        "sets), so its table is left out; results.csv has both.";

    public const string ShiftConvention =
        "Each classifier fitted on the source dataset is evaluated, as fitted, on the test split of every target (same " +
        "classes, another distribution; a target with a subset of the classes is scored over those classes only, as CoOp " +
        "scores ImageNet-A and -R). Mean ± std over seeds; the target average is per seed, then averaged. Methods never see " +
        "the targets: the host evaluates.";

    public const string BaseToNewConvention =
        "CoCoOp's protocol: each dataset's classes are split as Dassl's subsample_classes does (sorted labels, the first half " +
        "base, the rest new); methods train and select on the few-shot split of the base classes only. Base: test top-1 on " +
        "the base classes' test images (also what every other table of this report shows for these cells); New: test top-1 " +
        "on the new classes, classified from their names with the fitted parameters; H: harmonic mean of the mean Base and " +
        "mean New (means over seeds, then over datasets for the average), as CoCoOp reports it. n/a: the method learns " +
        "per-class weights (probe, cache, residuals) and cannot classify unseen classes.";

    public const string TransferConvention =
        "Each classifier fitted on the source dataset is asked for a classifier over every target's own class names " +
        "(its templates) and tested on the target's test split, as CoCoOp's cross-dataset evaluation. Mean ± std over seeds; " +
        "the target average is per seed, then averaged. n/a: the method learns per-class weights and cannot classify the " +
        "target's classes. Methods never see the targets: the host evaluates.";

    public const string CostConvention =
        "Mean over the method's cells at that shots value (16 shots, or the largest the method ran). Trainable parameters " +
        "can depend on the number of classes: then the mean and the range over datasets are shown. Memory added: the " +
        "cell's peak resident memory minus the resident memory at its start, i.e. what the method's fit and evaluation " +
        "added; process peak: the whole process (the frozen CLIP and cached features included, the same for every " +
        "method). Fit times depend on the threads and on what else the machine ran: the threads the cells computed " +
        "with and the machine's 1-minute load average when they ended are shown (— where not recorded).";

    public const string PlotConvention =
        "Plots: accuracy versus labelled training examples per class (log2 axis), one line per method with a band of " +
        "± one standard deviation over seeds; a method whose accuracy does not depend on shots (zero-shot CLIP) is a dashed line.";
}
