using Peft.Reporting;
using static Peft.Tests.Reporting.ReportCells;
using Peft.Results;

namespace Peft.Tests.Reporting;

public class AggregationTests
{
    static ExperimentSummary Summary(List<Peft.Results.CellResult> cells, string? baseline = null) =>
        ExperimentSummary.Build(cells, new ReportOptions("unused") { BaselineMethod = baseline });

    [Fact]
    public void Per_dataset_entries_are_mean_and_sample_std_over_seeds()
    {
        var t = Summary(Standard()).Top1;
        var a1 = t.PerDataset("adapter", "A", 1);
        Assert.Equal((62.0, 1.0, 3), (a1.Mean, a1.StdDev, a1.Seeds));
        Assert.Equal(2.0, t.PerDataset("adapter", "A", 16).StdDev, 12);
        Assert.Equal(53.0, t.PerDataset("adapter", "B", 1).Mean, 12);
        Assert.Equal(Math.Sqrt(13), t.PerDataset("adapter", "B", 1).StdDev, 12);
        Assert.Equal(0.0, t.PerDataset("adapter", "B", 16).StdDev);
        Assert.Null(a1.Footnote);
    }

    [Fact]
    public void Average_is_mean_of_dataset_means_with_std_over_per_seed_averages()
    {
        var t = Summary(Standard()).Top1;
        var avg1 = t.Average("adapter", 1);
        Assert.Equal(57.5, avg1.Mean, 12);
        Assert.Equal(Math.Sqrt(5.25), avg1.StdDev, 12); // per seed 55.5, 57, 60
        var avg16 = t.Average("adapter", 16);
        Assert.Equal((66.0, 1.0), (avg16.Mean, avg16.StdDev));
        Assert.Equal((55.0, 0.0), (t.Average("zero-shot", 16).Mean, t.Average("zero-shot", 16).StdDev));
    }

    [Fact]
    public void Mean_per_class_is_aggregated_from_its_own_metric()
    {
        var t = Summary(Standard()).MeanPerClass;
        Assert.Equal(AccuracyMetric.MeanPerClass, t.Metric);
        Assert.Equal(56.5, t.Average("adapter", 1).Mean, 12);
        Assert.Equal(61.0, t.PerDataset("adapter", "A", 1).Mean, 12);
    }

    [Fact]
    public void A_missing_seed_is_noted_and_the_average_std_uses_complete_seeds_only()
    {
        var cells = Standard();
        cells.RemoveAll(c => c is { Method: "adapter", Dataset: "B", Shots: 16, Seed: 3 });
        var t = Summary(cells).Top1;
        var b16 = t.PerDataset("adapter", "B", 16);
        Assert.Equal(2, b16.Seeds);
        Assert.Contains("2 of 3 seeds (seed 3 missing)", b16.Footnote);
        var avg = t.Average("adapter", 16);
        Assert.Equal(66.0, avg.Mean, 12);             // (72 + 60) / 2: dataset means
        Assert.Equal(Math.Sqrt(0.5), avg.StdDev, 12); // seeds 1, 2: 65, 66
        Assert.Equal(2, avg.Seeds);
        Assert.Contains("2 of 3 seeds complete", avg.Footnote);
    }

    [Fact]
    public void A_dataset_without_results_makes_the_average_missing_not_an_average_of_fewer_datasets()
    {
        var cells = Standard();
        cells.RemoveAll(c => c is { Method: "adapter", Dataset: "B", Shots: 16 });
        var t = Summary(cells).Top1;
        Assert.True(t.PerDataset("adapter", "B", 16).IsMissing);
        var avg = t.Average("adapter", 16);
        Assert.True(avg.IsMissing);
        Assert.Contains("no result on B", avg.Footnote);
        Assert.False(t.Average("adapter", 1).IsMissing);
    }

    [Fact]
    public void Comparison_pairs_by_dataset_and_seed_counts_ties_and_tests()
    {
        var s = Summary(Standard());
        Assert.Equal("zero-shot", s.Baseline);
        var at1 = s.Comparisons.Single(c => c.Method == "adapter" && c.Shots == 1);
        // differences A: 1, 2, 3; B: 0, 2, 7
        Assert.Equal((6, 5, 1, 0), (at1.Pairs, at1.Wins, at1.Ties, at1.Losses));
        Assert.Equal(2.5, at1.MeanDifference, 12);
        Assert.Equal(2.0 / 32, at1.SignTestPValue, 15);
        Assert.Equal(Peft.Reporting.Statistics.WilcoxonPValueMethod.Permutation, at1.Wilcoxon.Method);
        Assert.Equal(2.0 / 32, at1.Wilcoxon.PValue, 15); // all five non-zero differences positive
        var all = s.Comparisons.Single(c => c.Method == "adapter" && c.Shots is null);
        Assert.Equal(12, all.Pairs);
        Assert.Equal(0, all.UnpairedCells);
        Assert.DoesNotContain(s.Comparisons, c => c.Method == "zero-shot");
    }

    [Fact]
    public void Differences_equal_on_paper_tie_after_rounding()
    {
        // 10.3 - 10.1 and 10.5 - 10.3 differ in their last bits; rounded, they are one tie group.
        Assert.NotEqual(10.3 - 10.1, 10.5 - 10.3);
        var cells = new List<Peft.Results.CellResult>
        {
            Cell("A", 1, 1, "base", 10.1), Cell("A", 1, 1, "m", 10.3),
            Cell("B", 1, 1, "base", 10.3), Cell("B", 1, 1, "m", 10.5),
            Cell("C", 1, 1, "base", 1.0), Cell("C", 1, 1, "m", 2.0),
        };
        var c = Summary(cells, "base").Comparisons.First(x => x.Shots == 1);
        Assert.Equal(Peft.Reporting.Statistics.WilcoxonPValueMethod.Permutation, c.Wilcoxon.Method);
    }

    [Fact]
    public void Cells_without_a_baseline_cell_are_counted_as_unpaired()
    {
        var cells = Standard();
        cells.RemoveAll(c => c is { Method: "zero-shot", Dataset: "A", Shots: 1, Seed: 2 });
        var c1 = Summary(cells).Comparisons.Single(c => c.Method == "adapter" && c.Shots == 1);
        Assert.Equal((5, 1), (c1.Pairs, c1.UnpairedCells));
    }

    [Fact]
    public void Baseline_defaults_to_zero_shot_else_the_first_method_and_must_exist()
    {
        var cells = Standard().Where(c => c.Method == "adapter").Concat(Standard().Where(c => c.Method == "zero-shot")).ToList();
        Assert.Equal("zero-shot", Summary(cells).Baseline);
        var noZeroShot = Standard().Select(c => c.Method == "zero-shot" ? c with { Method = "probe" } : c).ToList();
        Assert.Equal("probe", Summary(noZeroShot).Baseline);
        var e = Assert.Throws<ReportException>(() => Summary(Standard(), "coop"));
        Assert.Contains("'coop'", e.Message);
        Assert.Contains("zero-shot, adapter", e.Message);
    }

    [Fact]
    public void Costs_are_taken_at_16_shots()
    {
        var cost = Summary(Standard()).Costs.Single(c => c.Method == "adapter");
        Assert.Equal((16, 6), (cost.Shots, cost.Cells));
        Assert.Equal(5.0, cost.MeanFitSeconds, 12);
        Assert.Equal((1000L, 2000L, 1500.0), (cost.MinTrainableParameters, cost.MaxTrainableParameters, cost.MeanTrainableParameters));
        Assert.Equal(400.0, cost.MeanPeakMemoryMb, 12);
    }

    [Fact]
    public void Bad_input_is_refused_with_the_cell_named()
    {
        Assert.Contains("No cell results", Assert.Throws<ReportException>(() => Summary([])).Message);
        var twice = Standard();
        twice.Add(twice[0]);
        Assert.Contains("A/1/1/zero-shot appears twice", Assert.Throws<ReportException>(() => Summary(twice)).Message);
        var fraction = Standard();
        fraction[0] = fraction[0] with { TestTop1 = 0.6 * 1000 };
        Assert.Contains("A/1/1/zero-shot has test top-1 accuracy 600", Assert.Throws<ReportException>(() => Summary(fraction)).Message);
    }
}
