using Peft.Tracking.Mlruns;

namespace Peft.Tests.Tracking;

public sealed class PythonFloatTests
{
    [Theory]
    [InlineData(0.5, "0.5")]
    [InlineData(100.0, "100.0")]
    [InlineData(1e-5, "1e-05")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(1e16, "1e+16")]
    [InlineData(123456789012345678.0, "1.2345678901234568e+17")]
    [InlineData(0.1 + 0.2, "0.30000000000000004")]
    [InlineData(-0.0, "-0.0")]
    [InlineData(0.0, "0.0")]
    [InlineData(1234.5678, "1234.5678")]
    [InlineData(double.NegativeInfinity, "-inf")]
    public void Formats_as_python_str(double value, string expected) => Assert.Equal(expected, PythonFloat.Format(value));

    [Theory]
    [InlineData("nan")]
    [InlineData("NaN")]
    [InlineData("inf")]
    [InlineData("-Infinity")]
    [InlineData("1E-05")]
    [InlineData("3")]
    public void Parses_what_python_float_parses(string text) => Assert.True(PythonFloat.TryParse(text, out _));
}
