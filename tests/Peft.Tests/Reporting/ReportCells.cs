using Peft.Host.Experiments;
using Peft.Results;

namespace Peft.Tests.Reporting;

/// <summary>
/// Hand-checkable cells: datasets A and B, shots 1 and 16, seeds 1–3; "zero-shot" is flat (A 60, B 50); "adapter":
/// A 1-shot 61/62/63 (62 ± 1), A 16-shot 70/72/74 (72 ± 2), B 1-shot 50/52/57 (53 ± √13), B 16-shot 60/60/60.
/// Mean-per-class accuracy is top-1 − 1 everywhere.
/// </summary>
static class ReportCells
{
    public static CellResult Cell(string dataset, int shots, int seed, string method, double top1,
        double fitSeconds = 1.0, long parameters = 0, double memoryMb = 100) =>
        new(dataset, shots, seed, method, top1, top1 - 1, null, fitSeconds, parameters, memoryMb,
            new Dictionary<string, string> { ["alpha"] = "0.5", ["note"] = "a,b" });

    public static List<CellResult> Standard()
    {
        var cells = new List<CellResult>();
        int[] seeds = [1, 2, 3];
        foreach (int shots in new[] { 1, 16 })
            foreach (int seed in seeds)
            {
                cells.Add(Cell("A", shots, seed, "zero-shot", 60));
                cells.Add(Cell("B", shots, seed, "zero-shot", 50));
            }
        double[] a1 = [61, 62, 63], a16 = [70, 72, 74], b1 = [50, 52, 57], b16 = [60, 60, 60];
        for (int i = 0; i < 3; i++)
        {
            cells.Add(Cell("A", 1, seeds[i], "adapter", a1[i], fitSeconds: 2, parameters: 1000, memoryMb: 300));
            cells.Add(Cell("A", 16, seeds[i], "adapter", a16[i], fitSeconds: 4, parameters: 1000, memoryMb: 300));
            cells.Add(Cell("B", 1, seeds[i], "adapter", b1[i], fitSeconds: 2, parameters: 2000, memoryMb: 500));
            cells.Add(Cell("B", 16, seeds[i], "adapter", b16[i], fitSeconds: 6, parameters: 2000, memoryMb: 500));
        }
        return cells;
    }
}
