using Peft.Host.Experiments;
using Peft.Terminal;

namespace Peft.Tests.Experiments;

public class RemainingTimeTests
{
    static ExperimentCell Cell(string method, int shots) => new(0, "d", shots, 1, method);

    [Fact]
    public void EstimatesEachCellByMethodAndShotsThenByMethodThenByTheMeanCell()
    {
        var eta = new RemainingTime();
        Assert.Null(eta.For([Cell("coop", 1)], 0)); // nothing finished yet: no guess
        eta.ObserveCell("zero-shot", 1, 0.2);
        eta.ObserveCell("coop", 1, 10);
        eta.ObserveCell("coop", 1, 14);
        Assert.Equal(12, eta.CellSeconds("coop", 1));              // same method and shots: their mean
        Assert.Equal(192, eta.CellSeconds("coop", 16));            // same method, other shots: scaled by shots
        Assert.Equal(3.2, eta.CellSeconds("zero-shot", 16)!.Value, 12); // scaled too (an overestimate for training-free methods)
        Assert.Equal((0.2 + 10 + 14) / 3, eta.CellSeconds("tip-adapter", 4)!.Value, 12); // unknown method: the mean cell
        eta.ObserveGroup(30);
        // Two CoOp 16-shot cells, a zero-shot one and two groups still to prepare.
        Assert.Equal(TimeSpan.FromSeconds(2 * 192 + 0.2 + 2 * 30), eta.For([Cell("coop", 16), Cell("coop", 16), Cell("zero-shot", 1)], 2));
    }

    [Fact]
    public void TheProgressBarShowsTheEstimateInsteadOfCellsPerSecond()
    {
        var now = TimeSpan.Zero;
        var output = new StringWriter();
        using var bar = new ConsoleProgress("cells", 10, "cells", output, interactive: false, lineInterval: TimeSpan.Zero, clock: () => now);
        bar.Remaining = () => TimeSpan.FromMinutes(42);
        bar.Report(0);
        now = TimeSpan.FromSeconds(1);
        bar.Report(5); // 5 cells per second would say ETA 00:01
        Assert.Contains("ETA 42:00", bar.Render());
        Assert.DoesNotContain("ETA 00:01", bar.Render());
        bar.Remaining = () => null;
        Assert.DoesNotContain("ETA", bar.Render());
    }
}
