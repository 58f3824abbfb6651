using Peft.Core;
using static TorchSharp.torch;

namespace Peft.Methods.LinearProbe;

/// <summary>
/// The linear probe of the CLIP paper (appendix A.3) as CoOp's <c>lpclip/linear_probe.py</c> runs it: L2 multinomial
/// logistic regression (<see cref="Multinomial"/>) on the unnormalised training features through the evaluation
/// transform (lpclip's feat_extractor uses the test transform for train too), C chosen on the few-shot validation
/// set by <see cref="Search"/>. Deterministic: no random choice is made (the generator is not read).
/// </summary>
public sealed class LinearProbe(LinearProbeOptions options) : IAdaptationMethod
{
    public IFeatureClassifier Fit(AdaptationContext context)
    {
        var x = context.Features.TrainFeatures();
        var y = context.Features.TrainLabels;
        int classes = context.Task.NumClasses;
        var metrics = context.Metrics;
        var fits = new Dictionary<double, LinearProbeClassifier>();
        LinearProbeClassifier FitC(double c)
        {
            if (fits.TryGetValue(c, out var done)) return done;
            var fit = Multinomial.Train(x, y, classes, c, options.Tolerance, options.MaxIterations, context.Cancellation);
            var classifier = new LinearProbeClassifier(fit.Weight, fit.Bias, c);
            fits[c] = classifier;
            return classifier;
        }

        double chosen;
        if (options.C is { } fixedC) chosen = fixedC;
        else
        {
            var xv = context.Features.ValFeatures();
            var yv = context.Features.ValLabels.to(ScalarType.Int64).data<long>().ToArray();
            int index = 0;
            double Score(double c)
            {
                var predictions = FitC(c).Predict(xv);
                double acc = (double)predictions.Zip(yv).Count(p => p.First == p.Second) / yv.Length;
                metrics.Log("search_c", c, index);
                metrics.Log("search_val_acc", acc, index);
                index++;
                return acc;
            }
            chosen = Search(options.CGrid, options.BisectionSteps, Score).C;
        }
        var final = FitC(chosen);
        foreach (var (c, classifier) in fits)
            if (!ReferenceEquals(classifier, final)) classifier.Dispose();
        metrics.Log("chosen_c", chosen);
        return final;
    }

    public sealed record SearchStep(double CLeft, double CRight, double AccLeft, double AccRight, double CKept);

    public sealed record SearchResult(double[] GridAccuracy, double CPeak, IReadOnlyList<SearchStep> Steps, double C);

    /// <summary>
    /// lpclip's C search: score every grid value in order, C* = the first maximum (np.argmax); then from
    /// [C_left, C_right] = [0.1·C*, 10·C*], <paramref name="steps"/> times: score both ends; the right end is kept only
    /// if strictly better (acc_left &lt; acc_right), otherwise the left; the next interval is the half of
    /// [log10 C_left, log10 C_right] on the kept side, mapped back with 10^x (same arithmetic as lpclip). The result is
    /// the C kept at the last step (C* when there are no steps).
    /// </summary>
    public static SearchResult Search(IReadOnlyList<double> grid, int steps, Func<double, double> score)
    {
        var gridAcc = grid.Select(score).ToArray();
        int peak = 0;
        for (int i = 1; i < gridAcc.Length; i++)
            if (gridAcc[i] > gridAcc[peak]) peak = i;
        double cPeak = grid[peak];
        double cLeft = 1e-1 * cPeak, cRight = 1e1 * cPeak, cFinal = cPeak;
        var trace = new List<SearchStep>();
        for (int step = 0; step < steps; step++)
        {
            double accLeft = score(cLeft), accRight = score(cRight);
            double nextLeft, nextRight;
            if (accLeft < accRight)
            {
                cFinal = cRight;
                nextLeft = 0.5 * (Math.Log10(cRight) + Math.Log10(cLeft));
                nextRight = Math.Log10(cRight);
            }
            else
            {
                cFinal = cLeft;
                nextRight = 0.5 * (Math.Log10(cRight) + Math.Log10(cLeft));
                nextLeft = Math.Log10(cLeft);
            }
            trace.Add(new SearchStep(cLeft, cRight, accLeft, accRight, cFinal));
            cLeft = Math.Pow(10, nextLeft);
            cRight = Math.Pow(10, nextRight);
        }
        return new SearchResult(gridAcc, cPeak, trace, cFinal);
    }
}
