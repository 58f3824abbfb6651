using static TorchSharp.torch;

namespace Peft.Methods.LinearProbe;

/// <summary>
/// L2-regularised multinomial logistic regression as scikit-learn 1.2's <c>LogisticRegression(solver="lbfgs",
/// penalty="l2", fit_intercept=True)</c> minimises it: f(W, b) = Σᵢ CE(softmax(W xᵢ + b), yᵢ) + ‖W‖²/(2C), the
/// intercept b not penalised, started at W = 0, b = 0 (so b keeps Σ_k b_k = 0: every gradient step has that
/// property). The gradient is evaluated with TorchSharp in float64 (deterministic on CPU for a fixed thread count);
/// the optimiser is <see cref="Lbfgs"/> on θ = [W row-major, b].
/// Two classes: sklearn's "auto" then fits one binary logistic regression v with ‖v‖²/(2C); the multinomial model
/// with W = [−v/2, v/2] and C/2 has the same objective, so it is fitted with C/2 and gives the same logits up to
/// a per-row constant (same predictions, same probabilities).
/// </summary>
static class Multinomial
{
    public sealed record Fit(Tensor Weight, Tensor Bias, LbfgsResult Result);

    /// <summary>Fits on x [N, D] (any float type) with labels y [N] in [0, classes).</summary>
    public static Fit Train(Tensor x, Tensor y, int classes, double c, double tolerance, int maxIterations,
        CancellationToken cancel = default)
    {
        double cEff = classes == 2 ? c / 2 : c;
        int d = (int)x.shape[1];
        using var scope = NewDisposeScope();
        var x64 = x.to(ScalarType.Float64).contiguous();
        var onehot = nn.functional.one_hot(y.to(ScalarType.Int64), classes).to(ScalarType.Float64);
        double invC = 1 / cEff;
        double Objective(double[] theta, double[] grad)
        {
            using var inner = NewDisposeScope();
            var t = tensor(theta, ScalarType.Float64);
            var w = t.narrow(0, 0, classes * d).view(classes, d);
            var b = t.narrow(0, classes * d, classes);
            var z = x64.matmul(w.t()).add_(b);
            var lse = z.logsumexp(1, keepdim: true);
            double ce = (lse.sum() - (z * onehot).sum()).item<double>();
            var gz = (z - lse).exp_().sub_(onehot);
            var gw = gz.t().matmul(x64).add_(w, alpha: invC);
            var gb = gz.sum(new long[] { 0 });
            var g = cat([gw.flatten(), gb]).data<double>();
            g.CopyTo(grad, 0);
            return ce + 0.5 * invC * w.square().sum().item<double>();
        }
        var result = Lbfgs.Minimize(Objective, new double[classes * (d + 1)], tolerance, maxIterations, cancel);
        var theta = tensor(result.X, ScalarType.Float64);
        var weight = theta.narrow(0, 0, classes * d).view(classes, d).clone();
        var bias = theta.narrow(0, classes * d, classes).clone();
        return new Fit(weight.MoveToOuterDisposeScope(), bias.MoveToOuterDisposeScope(), result);
    }

    /// <summary>Index of the first maximum of each row of a [B, C] tensor.</summary>
    public static long[] ArgmaxRows(Tensor logits)
    {
        var rows = (int)logits.shape[0];
        var cols = (int)logits.shape[1];
        var v = logits.to(ScalarType.Float64).contiguous().data<double>().ToArray();
        var result = new long[rows];
        for (int r = 0; r < rows; r++)
        {
            int best = 0;
            for (int k = 1; k < cols; k++)
                if (v[r * cols + k] > v[r * cols + best]) best = k;
            result[r] = best;
        }
        return result;
    }
}
