using Peft.Reporting;
using Peft.Reporting.Writers;
using static Peft.Tests.Reporting.ReportCells;
using Peft.Results;

namespace Peft.Tests.Reporting;

/// <summary>Markdown, HTML, CSV and terminal renderings of the hand-checkable cells.</summary>
public class TextWriterTests
{
    static ExperimentSummary Summary(List<Peft.Results.CellResult>? cells = null, string title = "Demo") =>
        ExperimentSummary.Build(cells ?? Standard(), new ReportOptions("unused") { Title = title });

    static readonly ReportPlot[] Plots = [new("Average plot", "plots/accuracy-average.png", [1, 2, 3], null), new("A plot", "plots/accuracy-A.png", [4], "A")];

    [Fact]
    public void Markdown_has_summary_main_table_comparison_cost_and_plot_links()
    {
        string md = MarkdownReport.Render(Summary(), Plots);
        Assert.StartsWith("# Demo\n", md);
        Assert.Contains("| Methods | 2: zero-shot, adapter |", md);
        Assert.Contains("| Cells | 24 |", md);
        Assert.Contains("| Method | 1 shot | 16 shots |\n|:---|---:|---:|\n| zero-shot | 55.00 ± 0.00 | 55.00 ± 0.00 |\n| adapter | **57.50 ± 2.29** | **66.00 ± 1.00** |", md);
        Assert.Contains("| adapter | 1 shot | 6 | +2.50 | 5 / 1 / 0 | 0.0625 | 0.0625 \\[1\\] |", md);
        Assert.Contains("| adapter | 16 shots | 6 | 5.00 | 1,500 (1,000–2,000) | — | 400.0 | — | — |", md);
        Assert.Contains("![Average plot](plots/accuracy-average.png)", md);
        Assert.Contains("### A\n", md);
        Assert.Contains("| adapter | **62.00 ± 1.00** | **72.00 ± 2.00** |", md);
    }

    [Fact]
    public void Markdown_marks_missing_cells_with_a_numbered_note()
    {
        var cells = Standard();
        cells.RemoveAll(c => c is { Method: "adapter", Dataset: "B", Shots: 16 });
        string md = MarkdownReport.Render(Summary(cells), []);
        Assert.Contains("| adapter | **57.50 ± 2.29** | — \\[1\\] |", md);
        Assert.Contains("\\[1\\] no result on B: not averaged over fewer datasets", md);
    }

    [Fact]
    public void Markdown_escapes_names_that_would_be_markup()
    {
        var cells = Standard().Select(c => c.Method == "adapter" ? c with { Method = "tip|adapter_*f*" } : c).ToList();
        string md = MarkdownReport.Render(Summary(cells, "Run <1> [x]"), []);
        Assert.Contains("# Run \\<1\\> \\[x\\]", md);
        Assert.Contains("| tip\\|adapter\\_\\*f\\* |", md);
        Assert.DoesNotContain("tip|adapter", md);
    }

    [Fact]
    public void Single_method_reports_without_a_comparison()
    {
        var cells = Standard().Where(c => c.Method == "adapter").ToList();
        var s = Summary(cells);
        Assert.Empty(s.Comparisons);
        string md = MarkdownReport.Render(s, []);
        Assert.Contains("Only one method (adapter) has results: there is nothing to compare it with.", md);
        Assert.Contains("Only one method", HtmlReport.Render(s, []));
    }

    [Fact]
    public void Html_is_self_contained_and_escapes_all_text()
    {
        var cells = Standard().Select(c => c.Dataset == "A" ? c with { Dataset = "<script>alert('x')</script>" } : c).ToList();
        string html = HtmlReport.Render(Summary(cells, "Tom & \"Jerry\""), [new ReportPlot("P <1>", "plots/p.png", [0x89, 0x50], null)]);
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.DoesNotContain("<script>", html);
        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;", html);
        Assert.Contains("<title>Tom &amp; &quot;Jerry&quot;</title>", html);
        Assert.Contains("alt=\"P &lt;1&gt;\"", html);
        Assert.Contains("src=\"data:image/png;base64,iVA=\"", html);
        Assert.Contains("<td class=\"best\">66.00 ± 1.00</td>", html);
        Assert.DoesNotContain("http", html); // no external resource
    }

    [Fact]
    public void Csv_has_one_quoted_row_per_cell()
    {
        var cells = Standard();
        string csv = ResultsCsv.Render(cells);
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(cells.Count + 1, lines.Length);
        Assert.Equal("dataset,shots,seed,method,test_top1,test_mean_per_class,val_top1,fit_seconds,trainable_parameters,peak_memory_mb,options,oracle,shift,new_test_top1,transfer", lines[0]);
        Assert.Equal("A,1,1,zero-shot,60,59,,1,0,100,\"alpha=0.5; note=a,b\",false,,,", lines[1]);
        Assert.Equal("\"say \"\"hi\"\"\"", ResultsCsv.Quote("say \"hi\""));
    }

    [Fact]
    public void Terminal_table_is_aligned_marks_the_best_and_fits_120_columns()
    {
        string text = TerminalTable.Render(Standard(), new ReportOptions("unused") { Title = "Demo" });
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Demo — Average over 2 datasets: test top-1 accuracy (%)", lines[0]);
        Assert.Equal("  Method            1 shot         16 shots", lines[1]);
        Assert.Matches("^─{40,}$", lines[2]);
        Assert.Equal("  zero-shot   55.00 ± 0.00     55.00 ± 0.00", lines[3]);
        Assert.Equal("  adapter     57.50 ± 2.29 *   66.00 ± 1.00 *", lines[4]);
        Assert.Equal("* best in column", lines[5]);
        Assert.All(lines, l => Assert.True(l.Length <= 120));
    }

    [Fact]
    public void A_wide_terminal_table_drops_the_std_then_shortens_names()
    {
        var cells = new List<Peft.Results.CellResult>();
        foreach (int shots in new[] { 1, 2, 4, 8, 16, 32, 64, 128 })
        foreach (int seed in new[] { 1, 2 })
        {
            cells.Add(Cell("A", shots, seed, "zero-shot", 60));
            cells.Add(Cell("A", shots, seed, new string('m', 60), 61 + seed));
        }
        string text = TerminalTable.Render(cells);
        Assert.All(text.Split('\n'), l => Assert.True(l.Length <= 120, $"{l.Length}: {l}"));
        Assert.DoesNotContain("±", text);
        Assert.Contains("…", text);
    }

    [Fact]
    public void Verdict_names_the_best_method_per_shots_with_its_interval_and_the_tests()
    {
        string md = MarkdownReport.Render(Summary(), Plots);
        Assert.True(md.IndexOf("## Verdict", StringComparison.Ordinal) < md.IndexOf("## Results averaged", StringComparison.Ordinal));
        // 1 shot: differences A 1, 2, 3 and B 0, 2, 7 → mean 2.5; sign test 5 wins / 0 losses p = 0.0625.
        var (low1, high1) = Peft.Reporting.Statistics.StudentT.MeanInterval([1.0, 2, 3, 0, 2, 7]);
        Assert.Contains($"| 1 shot | adapter | 57.50 | +2.50 \\[{Signed(low1)}, {Signed(high1)}\\] | 6 | no (sign p = 0.0625, Wilcoxon p = 0.0625) |", md);
        // 16 shots: A 10, 12, 14 and B 10, 10, 10 → +11.00; both tests p = 0.0313.
        var (low16, high16) = Peft.Reporting.Statistics.StudentT.MeanInterval([10.0, 12, 14, 10, 10, 10]);
        Assert.Contains($"| 16 shots | adapter | 66.00 | +11.00 \\[{Signed(low16)}, {Signed(high16)}\\] | 6 | yes (sign p = 0.0313, Wilcoxon p = 0.0313) |", md);
        // The baseline best: said so.
        var cells = Standard().Where(c => !(c.Method == "adapter" && c.Shots == 1)).ToList();
        cells.AddRange(Standard().Where(c => c.Method == "adapter" && c.Shots == 1).Select(c => c with { TestTop1 = 40, TestMeanPerClass = 39 }));
        Assert.Contains("| 1 shot | zero-shot | 55.00 | — (the baseline) |  | no method beats the baseline on average |", MarkdownReport.Render(Summary(cells), Plots));
        Assert.Contains("<h2>Verdict</h2>", HtmlReport.Render(Summary(), Plots));
    }

    static string Signed(double v) => v.ToString("+0.00;−0.00;0.00", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Mean_per_class_tables_appear_only_where_they_differ_from_top1()
    {
        Assert.Contains("mean-per-class accuracy (%)", MarkdownReport.Render(Summary(), Plots));
        // Balanced everywhere: no mean-per-class table, one sentence instead (average and each dataset).
        var balanced = Standard().Select(c => c with { TestMeanPerClass = c.TestTop1 }).ToList();
        string md = MarkdownReport.Render(Summary(balanced), Plots);
        Assert.DoesNotContain("mean-per-class accuracy (%)", md);
        Assert.Contains("Mean-per-class accuracy equals top-1 in every cell (balanced test sets)", md);
        Assert.Contains("Mean-per-class accuracy equals top-1 in every cell of A", md);
        // Only dataset B differs: its table (and the average's) stays, A's goes.
        var onlyB = balanced.Select(c => c.Dataset == "B" ? c with { TestMeanPerClass = c.TestTop1 - 1 } : c).ToList();
        md = MarkdownReport.Render(Summary(onlyB), Plots);
        Assert.Contains("**B: test mean-per-class accuracy (%)**", md);
        Assert.DoesNotContain("**A: test mean-per-class accuracy (%)**", md);
        Assert.Contains("**Average over 2 datasets: test mean-per-class accuracy (%)**", md);
        Assert.DoesNotContain("mean-per-class accuracy (%)", HtmlReport.Render(Summary(balanced), Plots));
    }

    [Fact]
    public void Csv_numbers_have_no_float_noise()
    {
        var cell = Cell("A", 1, 1, "m", 0.544 * 100) with { TestMeanPerClass = 0.1 + 0.2, FitSeconds = 0.0887243 };
        Assert.Equal("54.400000000000006", cell.TestTop1.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        var row = ResultsCsv.Render([cell]).Split("\r\n")[1];
        Assert.StartsWith("A,1,1,m,54.4,0.3,,0.0887243,", row);
    }

    [Fact]
    public void Cost_table_shows_the_memory_a_method_added_its_threads_and_the_load()
    {
        var cells = Standard().Select(c => c with
        {
            Threads = c.Method == "adapter" && c.Dataset == "B" ? 1 : 2, LoadAverage = c.Seed, MemoryIncreaseMb = c.Method == "adapter" ? 50 : 0.5,
        }).ToList();
        string md = MarkdownReport.Render(Summary(cells), Plots);
        Assert.Contains("| Method | Shots | Cells | Fit time (s) | Trainable parameters | Memory added (MB) | Process peak (MB) | Threads | Load (1 min) |", md);
        Assert.Contains("| zero-shot | 16 shots | 6 | 1.00 | 0 | 0.5 | 100.0 | 2 | 2.0 |", md);
        Assert.Contains("| adapter | 16 shots | 6 | 5.00 | 1,500 (1,000–2,000) | 50.0 | 400.0 | 1–2 | 2.0 |", md);
    }
}
