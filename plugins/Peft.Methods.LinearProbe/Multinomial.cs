using static TorchSharp.torch;

namespace Peft.Methods.LinearProbe;

/// <summary>
/// L2-regularised multinomial logistic regression as scikit-learn 1.2's <c>LogisticRegression(solver="lbfgs",
/// penalty="l2", fit_intercept=True)</c> minimises it: f(W, b) = Σᵢ CE(softmax(W xᵢ + b), yᵢ) + ‖W‖²/(2C), the
/// intercept b not penalised, started at W = 0, b = 0. The gradient is evaluated with TorchSharp in float64
/// (deterministic on CPU for a fixed thread count); the optimiser is <see cref="Lbfgs"/> (scipy's L-BFGS-B).
/// Two classes: sklearn's "auto" then fits one binary logistic regression (v, c) on y ∈ {0, 1} for the second class,
/// f = Σᵢ log(1 + exp(v·xᵢ + c)) − yᵢ(v·xᵢ + c) + ‖v‖²/(2C), in its own d + 1 variables (L-BFGS is not invariant to
/// rewriting it as a two-class multinomial, so that would take other steps); the classifier is W = [0; v], b = [0; c],
/// which predicts class 1 exactly when v·x + c &gt; 0, as sklearn does.
/// </summary>
static class Multinomial
{
    public sealed record Fit(Tensor Weight, Tensor Bias, LbfgsResult Result);

    /// <summary>Fits on x [N, D] (any float type) with labels y [N] in [0, classes).</summary>
    public static Fit Train(Tensor x, Tensor y, int classes, double c, double tolerance, int maxIterations,
        CancellationToken cancel = default)
    {
        if (classes == 2) return TrainBinary(x, y, c, tolerance, maxIterations, cancel);
        int d = (int)x.shape[1];
        using var scope = NewDisposeScope();
        var x64 = x.to(ScalarType.Float64).contiguous();
        var onehot = nn.functional.one_hot(y.to(ScalarType.Int64), classes).to(ScalarType.Float64);
        double invC = 1 / c;
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

    static Fit TrainBinary(Tensor x, Tensor y, double c, double tolerance, int maxIterations, CancellationToken cancel)
    {
        int d = (int)x.shape[1];
        using var scope = NewDisposeScope();
        var x64 = x.to(ScalarType.Float64).contiguous();
        var target = y.to(ScalarType.Int64).eq(1).to(ScalarType.Float64);
        double invC = 1 / c;
        double Objective(double[] theta, double[] grad)
        {
            using var inner = NewDisposeScope();
            var t = tensor(theta, ScalarType.Float64);
            var v = t.narrow(0, 0, d);
            var raw = x64.matmul(v).add_(t[d]);
            // log(1 + exp(raw)) − y·raw (computed without overflow or softplus's cut-off at 20), derivative sigmoid(raw) − y
            var log1pExp = raw.clamp_min(0).add_(raw.abs().neg_().exp_().log1p_());
            double loss = (log1pExp - target * raw).sum().item<double>();
            var gz = raw.sigmoid().sub_(target);
            var gv = x64.t().matmul(gz).add_(v, alpha: invC);
            var g = cat([gv, gz.sum().unsqueeze(0)]).data<double>();
            g.CopyTo(grad, 0);
            return loss + 0.5 * invC * v.square().sum().item<double>();
        }
        var result = Lbfgs.Minimize(Objective, new double[d + 1], tolerance, maxIterations, cancel);
        var theta = tensor(result.X, ScalarType.Float64);
        var weight = cat([zeros(1, d, ScalarType.Float64), theta.narrow(0, 0, d).unsqueeze(0)]);
        var bias = cat([zeros(1, ScalarType.Float64), theta.narrow(0, d, 1)]);
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
