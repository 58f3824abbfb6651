namespace Peft.Data.Synthetic;

/// <summary>
/// Sine and cosine from +, −, ×, ÷ only. <see cref="Math.Sin"/> calls the platform's libm, whose last bit may differ
/// between C libraries; IEEE basic arithmetic does not, so geometry built from these is identical everywhere.
/// </summary>
static class DetMath
{
    public const double Pi = 3.141592653589793;
    public const double TwoPi = 6.283185307179586;

    public static double Sin(double x)
    {
        // Reduce to [-pi, pi], then to [-pi/2, pi/2] by sin(pi - x) = sin(x).
        x -= TwoPi * Floor((x + Pi) / TwoPi);
        if (x > Pi / 2) x = Pi - x;
        else if (x < -Pi / 2) x = -Pi - x;
        double x2 = x * x, term = x, sum = x;
        for (int k = 1; k <= 11; k++)
        {
            term *= -x2 / ((2 * k) * (2 * k + 1));
            sum += term;
        }
        return sum;
    }

    public static double Cos(double x) => Sin(x + Pi / 2);

    public static double Degrees(double d) => d * (Pi / 180.0);

    static double Floor(double v) => Math.Floor(v); // exact in IEEE
}
