using System.Text;
using Peft.Core.Tracking;
using Peft.Results;

namespace Peft.Reporting;

/// <summary>
/// Puts an invocation's report on its MLflow parent run once it is written: <c>report/report.md</c>,
/// <c>report/report.html</c>, <c>report/results.csv</c>, <c>report/plots/*.png</c>, and summary metrics — the
/// dataset-averaged test top-1 of each method at each shots value (<c>avg_test_top1/&lt;method&gt;/&lt;K&gt;_shots</c>, step
/// K) — so the experiment's outcome is visible on the parent in the MLflow UI.
/// </summary>
public static class ParentRunReport
{
    public static void Log(IExperimentTracker tracker, string parentId, ExperimentSummary summary, ReportFiles files)
    {
        foreach (var path in new[] { files.Markdown, files.Html, files.ResultsCsv }.Concat(files.Plots))
        {
            var relative = Path.GetRelativePath(files.Directory, path).Replace(Path.DirectorySeparatorChar, '/');
            tracker.LogArtifact(parentId, "report/" + relative, File.ReadAllBytes(path));
        }
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var metrics = new List<MetricPoint>();
        foreach (var method in summary.Grid.Methods)
            foreach (int shots in summary.Grid.Shots)
                if (summary.Top1.Average(method, shots) is { IsMissing: false } entry)
                    metrics.Add(new MetricPoint($"avg_test_top1/{MetricSafe(method)}/{shots}_shots", entry.Mean, now, shots));
        if (metrics.Count > 0) tracker.LogBatch(parentId, metrics, new Dictionary<string, string>(), new Dictionary<string, string>());
    }

    /// <summary>A method name as MLflow accepts it in a metric key (letters, digits, _ - . space /); others become '_'.</summary>
    public static string MetricSafe(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (char c in name.Replace(Peft.Results.ExperimentProtocol.OracleMark, "-oracle"))
            sb.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ' ' ? c : '_');
        return sb.ToString();
    }
}
