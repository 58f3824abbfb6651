using System.Globalization;

namespace Peft.Tracking.Mlruns;

/// <summary>
/// Metric values as MLflow's FileStore writes them (Python's <c>str(float)</c>: <c>0.5</c>, <c>100.0</c>,
/// <c>1e-05</c>, <c>nan</c>, <c>inf</c>) and reads them (Python's <c>float()</c>), independent of the culture.
/// Both use the shortest digits that round-trip, as .NET's "R" does.
/// </summary>
internal static class PythonFloat
{
    public static string Format(double value)
    {
        if (double.IsNaN(value)) return "nan";
        if (double.IsPositiveInfinity(value)) return "inf";
        if (double.IsNegativeInfinity(value)) return "-inf";
        var sign = value < 0 || (value == 0 && double.IsNegative(value)) ? "-" : "";
        var (digits, exponent) = ShortestDigits(Math.Abs(value));
        if (exponent is >= -4 and < 16)
        {
            if (exponent < 0) return sign + "0." + new string('0', -exponent - 1) + digits;
            var intPart = digits.Length > exponent + 1 ? digits[..(exponent + 1)] : digits.PadRight(exponent + 1, '0');
            var fraction = digits.Length > exponent + 1 ? digits[(exponent + 1)..] : "0";
            return sign + intPart + "." + fraction;
        }
        var mantissa = digits.Length > 1 ? digits[0] + "." + digits[1..] : digits;
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
    }

    // value = d0.d1d2… × 10^exponent, digits without leading or trailing zeros ("0" for zero).
    private static (string digits, int exponent) ShortestDigits(double value)
    {
        if (value == 0) return ("0", 0);
        var r = value.ToString("R", CultureInfo.InvariantCulture);
        string digits;
        int exponent;
        int e = r.IndexOf('E');
        if (e >= 0)
        {
            digits = r[..e].Replace(".", "");
            exponent = int.Parse(r[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }
        else
        {
            int dot = r.IndexOf('.');
            string intPart = dot < 0 ? r : r[..dot], fraction = dot < 0 ? "" : r[(dot + 1)..];
            if (intPart != "0")
            {
                digits = intPart + fraction;
                exponent = intPart.Length - 1;
            }
            else
            {
                int zeros = fraction.Length - fraction.TrimStart('0').Length;
                digits = fraction[zeros..];
                exponent = -(zeros + 1);
            }
        }
        digits = digits.TrimEnd('0');
        return (digits.Length == 0 ? "0" : digits, exponent);
    }

    public static bool TryParse(string text, out double value)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "nan" or "+nan" or "-nan": value = double.NaN; return true;
            case "inf" or "+inf" or "infinity" or "+infinity": value = double.PositiveInfinity; return true;
            case "-inf" or "-infinity": value = double.NegativeInfinity; return true;
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }
}
