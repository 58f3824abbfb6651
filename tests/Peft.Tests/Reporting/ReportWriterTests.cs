using Peft.Reporting;
using static Peft.Tests.Reporting.ReportCells;

namespace Peft.Tests.Reporting;

public class ReportWriterTests() : TempDirectory("peft-report-")
{
    [Fact]
    public void Writes_markdown_html_csv_and_one_plot_per_dataset_plus_the_average()
    {
        var files = ReportWriter.Write(Standard(), new ReportOptions(Temp("out")) { Title = "Demo" });
        Assert.Equal(Temp("out"), files.Directory);
        Assert.All(new[] { files.Markdown, files.Html, files.ResultsCsv }, p => Assert.True(File.Exists(p), p));
        Assert.Equal(new[] { "accuracy-average.png", "accuracy-A.png", "accuracy-B.png" }, files.Plots.Select(Path.GetFileName));
        Assert.All(files.Plots, p => Assert.True(new FileInfo(p).Length > 5000, p));
        Assert.Contains("](plots/accuracy-B.png)", File.ReadAllText(files.Markdown));
        Assert.Empty(Directory.GetFiles(Temp("out"), "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void An_existing_folder_is_updated_in_place_and_the_output_is_deterministic()
    {
        string dir = Temp("out");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "mine");
        File.WriteAllText(Path.Combine(dir, "report.md"), "old");
        var first = ReportWriter.Write(Standard(), new ReportOptions(dir));
        var bytes = new[] { first.Markdown, first.Html, first.ResultsCsv }.Concat(first.Plots).Select(File.ReadAllBytes).ToArray();
        var second = ReportWriter.Write(Standard(), new ReportOptions(dir));
        Assert.Equal(bytes, new[] { second.Markdown, second.Html, second.ResultsCsv }.Concat(second.Plots).Select(File.ReadAllBytes).ToArray());
        Assert.Equal("mine", File.ReadAllText(Path.Combine(dir, "notes.txt")));
        Assert.NotEqual("old", File.ReadAllText(first.Markdown));
    }

    [Fact]
    public void Dataset_names_become_unique_file_safe_plot_names()
    {
        var cells = Standard().Select(c => c with { Dataset = c.Dataset == "A" ? "food/101" : "food 101" }).ToList();
        var files = ReportWriter.Write(cells, new ReportOptions(Temp("out")));
        Assert.Equal(new[] { "accuracy-average.png", "accuracy-food_101.png", "accuracy-food_101-2.png" }, files.Plots.Select(Path.GetFileName));
    }

    [Fact]
    public void Empty_input_is_a_clear_error_and_writes_nothing()
    {
        var e = Assert.Throws<ReportException>(() => ReportWriter.Write([], new ReportOptions(Temp("out"))));
        Assert.StartsWith("No cell results to report", e.Message);
        Assert.False(Directory.Exists(Temp("out")));
    }
}
