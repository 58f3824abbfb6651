namespace Peft.Methods.LinearProbe;

/// <summary>f(x) and its gradient written into <paramref name="gradient"/>.</summary>
delegate double Objective(double[] x, double[] gradient);

/// <summary>Why <see cref="Lbfgs.Minimize"/> stopped (scipy's task strings).</summary>
enum LbfgsStop
{
    /// <summary>CONVERGENCE: NORM_OF_PROJECTED_GRADIENT_&lt;=_PGTOL</summary>
    Gradient,
    /// <summary>CONVERGENCE: REL_REDUCTION_OF_F_&lt;=_FACTR*EPSMCH</summary>
    RelativeReduction,
    /// <summary>STOP: TOTAL NO. of ITERATIONS REACHED LIMIT</summary>
    MaxIterations,
    /// <summary>STOP: TOTAL NO. of f AND g EVALUATIONS EXCEEDS LIMIT</summary>
    MaxEvaluations,
    /// <summary>ABNORMAL_TERMINATION_IN_LNSRCH (a failed line search with an empty memory)</summary>
    LineSearchFailed,
}

sealed record LbfgsResult(double[] X, double F, double[] Gradient, int Iterations, int Evaluations, LbfgsStop Stop);

/// <summary>
/// scipy's L-BFGS-B (the Fortran 3.0 code of scipy 1.10, <c>scipy/optimize/lbfgsb_src/lbfgsb.f</c>) for unbounded
/// variables, driven as <c>scipy.optimize.minimize(method="L-BFGS-B")</c> drives it for scikit-learn 1.2's
/// <c>LogisticRegression(solver="lbfgs")</c>: maxcor m = 10, maxls 20, ftol 2.2204460492503131e-09 (factr·epsmch),
/// gtol = sklearn's tol, maxiter = sklearn's max_iter, maxfun 15000. Transcribed rules, so the iterates are scipy's up
/// to rounding:
/// <list type="bullet">
/// <item>direction (mainlb/cauchy/subsm without bounds): with an empty memory the Cauchy point z = x − g/θ (θ = 1),
/// otherwise z = x − H g with the compact L-BFGS matrix (here by the two-loop recursion, H₀ = I/θ, θ = yᵀy / sᵀy of the
/// newest pair); d = z − x;</item>
/// <item>line search (lnsrlb + MINPACK-2's dcsrch/dcstep, Moré–Thuente): ftol 1e-3, gtol 0.9, xtol 0.1, stpmin 0,
/// stpmax 1e10; first step min(1/‖d‖, 1e10) in the very first iteration, 1 afterwards (also after a restart); at most
/// 20 evaluations; x = z when the step is exactly 1, t + stp·d otherwise; a warning of dcsrch (rounding, xtol) accepts
/// the last point;</item>
/// <item>a failed line search (ascent direction, or 20 evaluations) restores the iterate and, with pairs in memory,
/// drops them (θ = 1) and restarts the iteration; with none it stops;</item>
/// <item>after each accepted step: the iteration limit, then max |gᵢ| ≤ gtol, then (f_old − f) ≤ ftol·max(|f_old|, |f|, 1);
/// the pair is (stp·d, Δg) with sᵀy computed as (gᵀd − g_oldᵀd)·stp, skipped when sᵀy ≤ ε·(−g_oldᵀd·stp).</item>
/// </list>
/// The remaining difference to scipy is rounding (BLAS sums, the compact vs two-loop form of H g); over the 1000
/// iterations of an ill-conditioned few-shot fit it can grow into the last digits of the predictions' scores.
/// </summary>
static class Lbfgs
{
    public const int Memory = 10, MaxLineSearch = 20, MaxEvaluations = 15000;
    public const double FTol = 2.2204460492503131e-09;
    const double Epsilon = 2.220446049250313e-16, StepMax = 1e10;

    public static LbfgsResult Minimize(Objective objective, double[] x0, double gtol, int maxIterations, CancellationToken cancel = default)
    {
        int n = x0.Length;
        var x = (double[])x0.Clone();
        var g = new double[n];
        double f = objective(x, g);
        int evaluations = 1;
        if (MaxAbs(g) <= gtol) return new(x, f, g, 0, evaluations, LbfgsStop.Gradient);

        var s = new List<double[]>();
        var y = new List<double[]>();
        var rho = new List<double>();
        double theta = 1;
        var alpha = new double[Memory];
        int iter = 0;
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            // z: the minimiser of the quadratic model (the Cauchy point while the memory is empty).
            var z = new double[n];
            if (s.Count == 0)
                for (int i = 0; i < n; i++) z[i] = x[i] + -g[i] / theta;
            else
            {
                var q = new double[n];
                for (int i = 0; i < n; i++) q[i] = -g[i];
                for (int k = s.Count - 1; k >= 0; k--)
                {
                    alpha[k] = rho[k] * Dot(s[k], q);
                    Axpy(-alpha[k], y[k], q);
                }
                for (int i = 0; i < n; i++) q[i] /= theta;
                for (int k = 0; k < s.Count; k++)
                {
                    double beta = rho[k] * Dot(y[k], q);
                    Axpy(alpha[k] - beta, s[k], q);
                }
                for (int i = 0; i < n; i++) z[i] = x[i] + q[i];
            }
            var d = new double[n];
            for (int i = 0; i < n; i++) d[i] = z[i] - x[i];

            var search = LineSearch(objective, x, f, g, d, z, iter == 0 ? Math.Min(1 / Math.Sqrt(Dot(d, d)), StepMax) : 1, ref evaluations);
            if (search is not { } accepted)
            {
                if (s.Count == 0) return new(x, f, g, iter, evaluations, LbfgsStop.LineSearchFailed);
                s.Clear(); y.Clear(); rho.Clear();
                theta = 1;
                continue;
            }
            iter++;
            double fOld = f, gdOld = accepted.GdOld;
            var gOld = g;
            (x, f, g) = (accepted.X, accepted.F, accepted.G);
            if (iter >= maxIterations) return new(x, f, g, iter, evaluations, LbfgsStop.MaxIterations);
            if (evaluations > MaxEvaluations) return new(x, f, g, iter, evaluations, LbfgsStop.MaxEvaluations);
            if (MaxAbs(g) <= gtol) return new(x, f, g, iter, evaluations, LbfgsStop.Gradient);
            if (fOld - f <= FTol * Math.Max(Math.Max(Math.Abs(fOld), Math.Abs(f)), 1))
                return new(x, f, g, iter, evaluations, LbfgsStop.RelativeReduction);

            var r = new double[n];
            for (int i = 0; i < n; i++) r[i] = g[i] - gOld[i];
            double rr = Dot(r, r), stp = accepted.Length, dr, ddum;
            if (stp == 1)
            {
                dr = accepted.Gd - gdOld;
                ddum = -gdOld;
            }
            else
            {
                dr = (accepted.Gd - gdOld) * stp;
                for (int i = 0; i < n; i++) d[i] *= stp;
                ddum = -gdOld * stp;
            }
            if (dr <= Epsilon * ddum) continue; // curvature too small: the update is skipped
            if (s.Count == Memory)
            {
                s.RemoveAt(0); y.RemoveAt(0); rho.RemoveAt(0);
            }
            s.Add(d); y.Add(r); rho.Add(1 / dr);
            theta = rr / dr;
        }
    }

    /// <summary>An accepted step: the point, its value and gradient, the step, gᵀd there and at the start.</summary>
    internal readonly record struct Step(double[] X, double F, double[] G, double Length, double Gd, double GdOld);

    /// <summary>
    /// lnsrlb: Moré–Thuente along d from x (value f, gradient g) starting at <paramref name="step0"/>; x + d is
    /// <paramref name="z"/>. Null when d is not a descent direction or no step was accepted within 20 evaluations.
    /// </summary>
    internal static Step? LineSearch(Objective objective, double[] x, double f, double[] g, double[] d, double[] z,
        double step0, ref int evaluations)
    {
        int n = x.Length;
        double gdOld = Dot(g, d);
        if (gdOld >= 0) return null;
        var search = new MoreThuente(1e-3, 0.9, 0.1, 0, StepMax);
        double stp = step0;
        search.Start(f, gdOld, stp);
        for (int ifun = 1; ; ifun++)
        {
            if (ifun - 1 >= MaxLineSearch) return null;
            var xt = new double[n];
            if (stp == 1) Array.Copy(z, xt, n);
            else for (int i = 0; i < n; i++) xt[i] = stp * d[i] + x[i];
            var gt = new double[n];
            double ft = objective(xt, gt);
            evaluations++;
            double gd = Dot(gt, d);
            double tried = stp;
            if (search.Next(ft, gd, ref stp)) return new Step(xt, ft, gt, tried, gd, gdOld);
        }
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

    internal static double MaxAbs(double[] x)
    {
        double m = 0;
        foreach (var v in x) m = Math.Max(m, Math.Abs(v));
        return m;
    }
}
