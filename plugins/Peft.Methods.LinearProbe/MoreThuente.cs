namespace Peft.Methods.LinearProbe;

/// <summary>
/// The Moré–Thuente line search as MINPACK-2's <c>dcsrch</c> and <c>dcstep</c> compute it (Moré &amp; Thuente, "Line
/// search algorithms with guaranteed sufficient decrease", ACM TOMS 20(3), 1994; the copy inside scipy's L-BFGS-B),
/// as a state machine: <see cref="Start"/> with φ(0), φ'(0) and the first step, then <see cref="Next"/> with φ and φ'
/// at each step tried, until it accepts (convergence, or one of dcsrch's warnings, which L-BFGS-B also accepts).
/// Same operations in the same order, so the steps are dcsrch's to the last bit.
/// </summary>
sealed class MoreThuente(double ftol, double gtol, double xtol, double stpmin, double stpmax)
{
    const double XtrapL = 1.1, XtrapU = 4.0, P5 = 0.5, P66 = 0.66;

    bool _brackt;
    int _stage;
    double _finit, _ginit, _gtest, _stx, _fx, _gx, _sty, _fy, _gy, _stmin, _stmax, _width, _width1;

    /// <summary>dcsrch's 'START' (the inputs are trusted: g &lt; 0, stpmin ≤ stp ≤ stpmax).</summary>
    public void Start(double f, double g, double stp)
    {
        _brackt = false;
        _stage = 1;
        _finit = f;
        _ginit = g;
        _gtest = ftol * _ginit;
        _width = stpmax - stpmin;
        _width1 = _width / P5;
        (_stx, _fx, _gx) = (0, _finit, _ginit);
        (_sty, _fy, _gy) = (0, _finit, _ginit);
        _stmin = 0;
        _stmax = stp + XtrapU * stp;
    }

    /// <summary>φ(stp) = f, φ'(stp) = g: true when stp is accepted; otherwise the next step to try is in stp.</summary>
    public bool Next(double f, double g, ref double stp)
    {
        double ftest = _finit + stp * _gtest;
        if (_stage == 1 && f <= ftest && g >= 0) _stage = 2;
        bool warning = (_brackt && (stp <= _stmin || stp >= _stmax))
            || (_brackt && _stmax - _stmin <= xtol * _stmax)
            || (stp == stpmax && f <= ftest && g <= _gtest)
            || (stp == stpmin && (f > ftest || g >= _gtest));
        bool converged = f <= ftest && Math.Abs(g) <= gtol * -_ginit;
        if (warning || converged) return true;

        if (_stage == 1 && f <= _fx && f > ftest)
        {
            // The modified function ψ(α) = φ(α) − φ(0) − ftol·α·φ'(0) while a lower value lacks sufficient decrease.
            double fm = f - stp * _gtest, fxm = _fx - _stx * _gtest, fym = _fy - _sty * _gtest;
            double gm = g - _gtest, gxm = _gx - _gtest, gym = _gy - _gtest;
            Step(ref _stx, ref fxm, ref gxm, ref _sty, ref fym, ref gym, ref stp, fm, gm, ref _brackt, _stmin, _stmax);
            _fx = fxm + _stx * _gtest;
            _fy = fym + _sty * _gtest;
            _gx = gxm + _gtest;
            _gy = gym + _gtest;
        }
        else Step(ref _stx, ref _fx, ref _gx, ref _sty, ref _fy, ref _gy, ref stp, f, g, ref _brackt, _stmin, _stmax);

        if (_brackt)
        {
            if (Math.Abs(_sty - _stx) >= P66 * _width1) stp = _stx + P5 * (_sty - _stx);
            _width1 = _width;
            _width = Math.Abs(_sty - _stx);
        }
        if (_brackt)
        {
            _stmin = Math.Min(_stx, _sty);
            _stmax = Math.Max(_stx, _sty);
        }
        else
        {
            _stmin = stp + XtrapL * (stp - _stx);
            _stmax = stp + XtrapU * (stp - _stx);
        }
        stp = Math.Max(stp, stpmin);
        stp = Math.Min(stp, stpmax);
        if ((_brackt && (stp <= _stmin || stp >= _stmax)) || (_brackt && _stmax - _stmin <= xtol * _stmax)) stp = _stx;
        return false;
    }

    /// <summary>dcstep: a safeguarded cubic/quadratic step, and the update of the interval [stx, sty].</summary>
    static void Step(ref double stx, ref double fx, ref double dx, ref double sty, ref double fy, ref double dy,
        ref double stp, double fp, double dp, ref bool brackt, double stpmin, double stpmax)
    {
        double sgnd = dp * (dx / Math.Abs(dx));
        double stpf;
        if (fp > fx)
        {
            // A higher value: the minimum is bracketed; the cubic step if closer to stx, else the mean with the quadratic.
            double theta = 3 * (fx - fp) / (stp - stx) + dx + dp;
            double s = Max3(Math.Abs(theta), Math.Abs(dx), Math.Abs(dp));
            double gamma = s * Math.Sqrt((theta / s) * (theta / s) - (dx / s) * (dp / s));
            if (stp < stx) gamma = -gamma;
            double p = (gamma - dx) + theta;
            double q = ((gamma - dx) + gamma) + dp;
            double r = p / q;
            double stpc = stx + r * (stp - stx);
            double stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2) * (stp - stx);
            stpf = Math.Abs(stpc - stx) < Math.Abs(stpq - stx) ? stpc : stpc + (stpq - stpc) / 2;
            brackt = true;
        }
        else if (sgnd < 0)
        {
            // A lower value and derivatives of opposite sign: bracketed; the cubic step if farther, else the secant.
            double theta = 3 * (fx - fp) / (stp - stx) + dx + dp;
            double s = Max3(Math.Abs(theta), Math.Abs(dx), Math.Abs(dp));
            double gamma = s * Math.Sqrt((theta / s) * (theta / s) - (dx / s) * (dp / s));
            if (stp > stx) gamma = -gamma;
            double p = (gamma - dp) + theta;
            double q = ((gamma - dp) + gamma) + dx;
            double r = p / q;
            double stpc = stp + r * (stx - stp);
            double stpq = stp + (dp / (dp - dx)) * (stx - stp);
            stpf = Math.Abs(stpc - stp) > Math.Abs(stpq - stp) ? stpc : stpq;
            brackt = true;
        }
        else if (Math.Abs(dp) < Math.Abs(dx))
        {
            // A lower value, same-sign derivatives, decreasing in magnitude.
            double theta = 3 * (fx - fp) / (stp - stx) + dx + dp;
            double s = Max3(Math.Abs(theta), Math.Abs(dx), Math.Abs(dp));
            double gamma = s * Math.Sqrt(Math.Max(0, (theta / s) * (theta / s) - (dx / s) * (dp / s)));
            if (stp > stx) gamma = -gamma;
            double p = (gamma - dp) + theta;
            double q = (gamma + (dx - dp)) + gamma;
            double r = p / q;
            double stpc = r < 0 && gamma != 0 ? stp + r * (stx - stp) : stp > stx ? stpmax : stpmin;
            double stpq = stp + (dp / (dp - dx)) * (stx - stp);
            if (brackt)
            {
                stpf = Math.Abs(stpc - stp) < Math.Abs(stpq - stp) ? stpc : stpq;
                stpf = stp > stx ? Math.Min(stp + P66 * (sty - stp), stpf) : Math.Max(stp + P66 * (sty - stp), stpf);
            }
            else
            {
                stpf = Math.Abs(stpc - stp) > Math.Abs(stpq - stp) ? stpc : stpq;
                stpf = Math.Min(stpmax, stpf);
                stpf = Math.Max(stpmin, stpf);
            }
        }
        else
        {
            // A lower value, same-sign derivatives not decreasing in magnitude.
            if (brackt)
            {
                double theta = 3 * (fp - fy) / (sty - stp) + dy + dp;
                double s = Max3(Math.Abs(theta), Math.Abs(dy), Math.Abs(dp));
                double gamma = s * Math.Sqrt((theta / s) * (theta / s) - (dy / s) * (dp / s));
                if (stp > sty) gamma = -gamma;
                double p = (gamma - dp) + theta;
                double q = ((gamma - dp) + gamma) + dy;
                double r = p / q;
                stpf = stp + r * (sty - stp);
            }
            else stpf = stp > stx ? stpmax : stpmin;
        }

        if (fp > fx)
        {
            sty = stp;
            fy = fp;
            dy = dp;
        }
        else
        {
            if (sgnd < 0)
            {
                sty = stx;
                fy = fx;
                dy = dx;
            }
            stx = stp;
            fx = fp;
            dx = dp;
        }
        stp = stpf;
    }

    static double Max3(double a, double b, double c) => Math.Max(Math.Max(a, b), c);
}
