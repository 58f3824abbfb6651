using static TorchSharp.torch;

namespace Peft.Methods.LinearProbe;

/// <summary>
/// L2-regularised multinomial logistic regression as scikit-learn 1.2's <c>LogisticRegression(solver="lbfgs",
/// penalty="l2", fit_intercept=True)</c> minimises it: f(W, b) = Σᵢ CE(softmax(W xᵢ + b), yᵢ) + ‖W‖²/(2C), the
/// intercept b not penalised, started at W = 0, b = 0, in sklearn's parameter order and with its loss formulas (see
/// <see cref="Train"/>); matrix products in float64 with TorchSharp (deterministic on CPU for a fixed thread count). The
/// optimiser is <see cref="Lbfgs"/> (scipy's L-BFGS-B). Why the formulas matter: on an unregularised, separable few-shot
/// problem lbfgs stops at max_iter or on a rounding-level threshold, where the path depends on rounding; with sklearn's
/// order of operations our iteration counts and predictions follow sklearn's more often (side by side against lpclip:
/// 5 cells, test predictions identical in 3, mean accuracy 39.86% vs 39.96%, where sklearn with other OpenBLAS kernels
/// gives 39.73–39.86%; <c>OfficialSideBySideTests</c>).
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
        int d = (int)x.shape[1], n = (int)x.shape[0], k = classes;
        using var scope = NewDisposeScope();
        var x64 = x.to(ScalarType.Float64).contiguous();
        var labels = y.to(ScalarType.Int64).data<long>().ToArray();
        double invC = 1 / c;
        var wRows = new double[k * d];
        var loss = new double[n];
        var gp = new double[n * k];
        // sklearn 1.2's LinearModelLoss.loss_gradient with HalfMultinomialLoss, formula by formula, so that the rounding
        // (which decides where an unconverged L-BFGS path goes) is as close to it as our BLAS allows: θ is sklearn's
        // w0.ravel(order="F") — the [K, D+1] coefficients (intercept last) with the K classes of a feature contiguous;
        // per sample, max, Σ exp(z − max) in class order, loss (log Σ + max) − z_y and gradient exp(z − max)/Σ − 1[y];
        // the losses summed as NumPy sums, the penalty ½·(1/C)·‖W‖², the intercept gradient summed in sample order.
        double Objective(double[] theta, double[] grad)
        {
            using var inner = NewDisposeScope();
            for (int j = 0; j < d; j++)
                for (int m = 0; m < k; m++) wRows[m * d + j] = theta[j * k + m];
            var z = x64.matmul(tensor(wRows, [k, d], ScalarType.Float64).t())
                .add_(tensor(theta.AsSpan(d * k, k).ToArray(), ScalarType.Float64)).contiguous().data<double>().ToArray();
            for (int i = 0; i < n; i++)
            {
                int row = i * k;
                double max = z[row];
                for (int m = 1; m < k; m++) max = Math.Max(max, z[row + m]);
                double sum = 0;
                for (int m = 0; m < k; m++) sum += gp[row + m] = Math.Exp(z[row + m] - max);
                double l = Math.Log(sum) + max;
                for (int m = 0; m < k; m++)
                {
                    bool target = labels[i] == m;
                    if (target) l -= z[row + m];
                    gp[row + m] = gp[row + m] / sum - (target ? 1 : 0);
                }
                loss[i] = l;
            }
            var gw = tensor(gp, [n, k], ScalarType.Float64).t().matmul(x64).contiguous().data<double>().ToArray();
            for (int j = 0; j < d; j++)
                for (int m = 0; m < k; m++) grad[j * k + m] = gw[m * d + j] + invC * theta[j * k + m];
            for (int m = 0; m < k; m++)
            {
                double gb = 0;
                for (int i = 0; i < n; i++) gb += gp[i * k + m];
                grad[d * k + m] = gb;
            }
            double norm2 = 0;
            for (int i = 0; i < d * k; i++) norm2 += theta[i] * theta[i];
            return NumpySum.Of(loss) + 0.5 * invC * norm2;
        }
        var result = Lbfgs.Minimize(Objective, new double[k * (d + 1)], tolerance, maxIterations, cancel);
        var weights = new double[k * d];
        for (int j = 0; j < d; j++)
            for (int m = 0; m < k; m++) weights[m * d + j] = result.X[j * k + m];
        var weight = tensor(weights, [k, d], ScalarType.Float64);
        var bias = tensor(result.X.AsSpan(d * k, k).ToArray(), ScalarType.Float64);
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
