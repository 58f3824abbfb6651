namespace Peft.Methods.LinearProbe;

/// <summary>f(x) and its gradient written into <paramref name="gradient"/>.</summary>
delegate double Objective(double[] x, double[] gradient);

/// <summary>Why <see cref="Lbfgs.Minimize"/> stopped.</summary>
enum LbfgsStop { Gradient, RelativeReduction, MaxIterations, LineSearchFailed }

sealed record LbfgsResult(double[] X, double F, double[] Gradient, int Iterations, int Evaluations, LbfgsStop Stop);

/// <summary>
/// Unconstrained limited-memory BFGS, set up like scipy's L-BFGS-B as scikit-learn calls it (scipy 1.10 defaults,
/// sklearn 1.2 passes <c>gtol = tol</c>, <c>maxiter = max_iter</c>): memory m = 10; stop when max_i |g_i| ≤ gtol
/// (the projected gradient without bounds), or when (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ ftol = 2.22e-9, or
/// after maxIterations iterations; at most 20 evaluations per line search; the first step (and the first after a
/// restart) is 1/‖d‖₂, later ones start at 1. Direction: the two-loop recursion with H₀ = (sᵀy / yᵀy)·I from the
/// newest pair; a pair is kept only if sᵀy > ε·yᵀy (as L-BFGS-B does).
/// The line search is the strong-Wolfe bracketing/zoom search of Nocedal &amp; Wright (Numerical Optimization, 2nd ed.,
/// Alg. 3.5 and 3.6) with safeguarded cubic interpolation, using L-BFGS-B's constants c₁ = 1e-3 (sufficient
/// decrease) and c₂ = 0.9 (curvature), and extrapolation by ×4 (Moré–Thuente's limit). It is not a transcription of
/// Moré–Thuente's dcsrch, so iterates differ from scipy's in the last digits; both converge to the same minimiser.
/// If a line search fails, the memory is dropped and a steepest-descent step is tried; a second failure stops.
/// </summary>
static class Lbfgs
{
    public const double C1 = 1e-3, C2 = 0.9;
    public const int Memory = 10, MaxLineSearch = 20;
    public const double FTol = 2.2204460492503131e-09;

    public static LbfgsResult Minimize(Objective objective, double[] x0, double gtol, int maxIterations, CancellationToken cancel = default)
    {
        int n = x0.Length;
        var x = (double[])x0.Clone();
        var g = new double[n];
        double f = objective(x, g);
        int evaluations = 1;
        var s = new List<double[]>();
        var y = new List<double[]>();
        var rho = new List<double>();
        if (MaxAbs(g) <= gtol) return new(x, f, g, 0, evaluations, LbfgsStop.Gradient);
        var d = new double[n];
        var alpha = new double[Memory];
        bool restarted = true;
        for (int iter = 1; ; iter++)
        {
            cancel.ThrowIfCancellationRequested();
            // Two-loop recursion: d = −H g.
            for (int i = 0; i < n; i++) d[i] = -g[i];
            for (int k = s.Count - 1; k >= 0; k--)
            {
                alpha[k] = rho[k] * Dot(s[k], d);
                Axpy(-alpha[k], y[k], d);
            }
            if (s.Count > 0)
            {
                var yl = y[^1];
                Scale(d, 1 / (rho[^1] * Dot(yl, yl)));
            }
            for (int k = 0; k < s.Count; k++)
            {
                double beta = rho[k] * Dot(y[k], d);
                Axpy(alpha[k] - beta, s[k], d);
            }
            double dphi0 = Dot(g, d);
            if (!(dphi0 < 0))
            {
                s.Clear(); y.Clear(); rho.Clear();
                for (int i = 0; i < n; i++) d[i] = -g[i];
                dphi0 = Dot(g, d);
                restarted = true;
            }
            double step0 = restarted ? Math.Min(1 / Math.Sqrt(Dot(d, d)), 1e10) : 1;
            var ls = LineSearch(objective, x, f, d, dphi0, step0, out int lsEvals);
            evaluations += lsEvals;
            if (ls is null)
            {
                if (restarted) return new(x, f, g, iter, evaluations, LbfgsStop.LineSearchFailed);
                s.Clear(); y.Clear(); rho.Clear();
                restarted = true;
                iter--;
                continue;
            }
            restarted = false;
            var (xNew, fNew, gNew) = ls.Value;
            var sk = new double[n];
            var yk = new double[n];
            for (int i = 0; i < n; i++)
            {
                sk[i] = xNew[i] - x[i];
                yk[i] = gNew[i] - g[i];
            }
            double sy = Dot(sk, yk), yy = Dot(yk, yk);
            if (sy > 2.220446049250313e-16 * yy)
            {
                if (s.Count == Memory)
                {
                    s.RemoveAt(0); y.RemoveAt(0); rho.RemoveAt(0);
                }
                s.Add(sk); y.Add(yk); rho.Add(1 / sy);
            }
            double fOld = f;
            x = xNew; f = fNew; g = gNew;
            if (MaxAbs(g) <= gtol) return new(x, f, g, iter, evaluations, LbfgsStop.Gradient);
            if ((fOld - f) / Math.Max(Math.Max(Math.Abs(fOld), Math.Abs(f)), 1) <= FTol)
                return new(x, f, g, iter, evaluations, LbfgsStop.RelativeReduction);
            if (iter >= maxIterations) return new(x, f, g, iter, evaluations, LbfgsStop.MaxIterations);
        }
    }

    /// <summary>
    /// A step α along d with φ(α) ≤ φ(0) + c₁αφ'(0) and |φ'(α)| ≤ c₂|φ'(0)| (strong Wolfe), or null after
    /// <see cref="MaxLineSearch"/> evaluations without one. Returns the point, its value and gradient.
    /// </summary>
    internal static (double[] X, double F, double[] G)? LineSearch(Objective objective, double[] x, double f0, double[] d,
        double dphi0, double step0, out int evaluations, int maxEvaluations = MaxLineSearch)
    {
        int n = x.Length;
        int evals = 0;
        (double A, double F, double D, double[] X, double[] G) Eval(double a)
        {
            var xa = new double[n];
            for (int i = 0; i < n; i++) xa[i] = x[i] + a * d[i];
            var ga = new double[n];
            double fa = objective(xa, ga);
            evals++;
            return (a, fa, Dot(ga, d), xa, ga);
        }
        bool Sufficient((double A, double F, double D, double[] X, double[] G) p) => p.F <= f0 + C1 * p.A * dphi0;
        bool Curvature((double A, double F, double D, double[] X, double[] G) p) => Math.Abs(p.D) <= -C2 * dphi0;

        var prev = (A: 0.0, F: f0, D: dphi0, X: x, G: (double[])null!);
        double a = step0;
        (double A, double F, double D, double[] X, double[] G)? result = null;
        (double A, double F, double D, double[] X, double[] G) lo, hi;
        while (true)
        {
            var cur = Eval(a);
            if (!double.IsFinite(cur.F) || !Sufficient(cur) || (evals > 1 && cur.F >= prev.F))
            {
                lo = prev; hi = cur;
                break;
            }
            if (Curvature(cur)) { result = cur; goto done; }
            if (cur.D >= 0) { lo = cur; hi = prev; break; }
            if (evals >= maxEvaluations) goto done;
            prev = cur;
            a = 4 * a;
        }
        // Zoom: lo satisfies sufficient decrease and has the lowest value seen; φ'(lo)·(hi − lo) < 0.
        while (evals < maxEvaluations)
        {
            double lower = Math.Min(lo.A, hi.A), upper = Math.Max(lo.A, hi.A), width = upper - lower;
            if (width <= 1e-16 * upper) break;
            double t = double.IsFinite(hi.F) ? Cubic(lo.A, lo.F, lo.D, hi.A, hi.F, hi.D) : double.NaN;
            if (!double.IsFinite(t) || t < lower + 0.1 * width || t > upper - 0.1 * width) t = 0.5 * (lo.A + hi.A);
            var cur = Eval(t);
            if (!double.IsFinite(cur.F) || !Sufficient(cur) || cur.F >= lo.F) hi = cur;
            else
            {
                if (Curvature(cur)) { result = cur; goto done; }
                if (cur.D * (hi.A - lo.A) >= 0) hi = lo;
                lo = cur;
            }
        }
        done:
        evaluations = evals;
        return result is { } r ? (r.X, r.F, r.G) : null;
    }

    /// <summary>Minimiser of the cubic interpolating (a, fa, da) and (b, fb, db) (Nocedal &amp; Wright eq. 3.59).</summary>
    static double Cubic(double a, double fa, double da, double b, double fb, double db)
    {
        double d1 = da + db - 3 * (fa - fb) / (a - b);
        double disc = d1 * d1 - da * db;
        if (disc < 0) return double.NaN;
        double d2 = Math.Sign(b - a) * Math.Sqrt(disc);
        return b - (b - a) * (db + d2 - d1) / (db - da + 2 * d2);
    }

    internal static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    static void Axpy(double a, double[] x, double[] y)
    {
        for (int i = 0; i < y.Length; i++) y[i] += a * x[i];
    }

    static void Scale(double[] x, double a)
    {
        for (int i = 0; i < x.Length; i++) x[i] *= a;
    }

    internal static double MaxAbs(double[] x)
    {
        double m = 0;
        foreach (var v in x) m = Math.Max(m, Math.Abs(v));
        return m;
    }
}
