using Peft.Host.Experiments;
using Peft.Reporting;
using SkiaSharp;
using Peft.Results;

namespace Peft.Tests.Reporting;

public sealed class AblationReportTests() : TempDirectory("peft-ablation-")
{
    // Two datasets × two seeds × shots 1 and 4 × three points of alpha; test = 40 + 10·index + shots (+1 on seed 2).
    static List<AblationPoint> Points() =>
    [
        .. from dataset in new[] { "a", "b" }
           from seed in new[] { 1, 2 }
           from shots in new[] { 1, 4 }
           from index in Enumerable.Range(0, 3)
           select new AblationPoint(dataset, shots, seed, "clip-adapter", index,
               new Dictionary<string, string> { ["alpha"] = new[] { "0.2", "0.6", "1" }[index] },
               ValTop1: 30 + index, TestTop1: 40 + 10 * index + shots + (seed == 2 ? 1 : 0), FitSeconds: 1, Selected: index == 2),
    ];

    [Fact]
    public void WritesTablesCsvAndAPlotLabelledAsTheAblationView()
    {
        var files = AblationReport.Write(Points(), Dir, "demo");
        Assert.Equal([Temp("ablation.md"), Temp("ablation.csv"), Temp("plots/ablation-clip-adapter.png")], files);
        var md = File.ReadAllText(Temp("ablation.md"));
        Assert.Contains(AblationReport.Warning, md);
        // Mean over 2 datasets × 2 seeds: 40 + 10·i + shots + 0.5, std of {x, x, x+1, x+1} = 0.58; validation 30 + i.
        Assert.Contains("| alpha=0.2 | 41.50 ± 0.58 (30.00) | 44.50 ± 0.58 (30.00) | 0/8 |", md);
        Assert.Contains("| alpha=1 | 61.50 ± 0.58 (32.00) | 64.50 ± 0.58 (32.00) | 8/8 |", md);
        Assert.Contains("### clip-adapter on b", md);
        Assert.Contains("![clip-adapter ablation](plots/ablation-clip-adapter.png)", md);
        var csv = File.ReadAllLines(Temp("ablation.csv"));
        Assert.Equal(1 + 24, csv.Length);
        Assert.Equal("a,1,1,clip-adapter,0,alpha=0.2,30,41,1,false", csv[1]);

        using var bitmap = SKBitmap.Decode(Temp("plots/ablation-clip-adapter.png"));
        Assert.Equal((900, 600), (bitmap.Width, bitmap.Height));
        // Same input, same bytes.
        var again = AblationReport.Write(Points(), Temp("again"), "demo");
        Assert.Equal(File.ReadAllBytes(files[2]), File.ReadAllBytes(again[2]));
    }

    [Fact]
    public void NoPointsWriteNothing()
    {
        Assert.Empty(AblationReport.Write([], Temp("none"), "demo"));
        Assert.False(Directory.Exists(Temp("none")));
    }
}
