using Microsoft.Extensions.Configuration;
using Peft.Core;

namespace Peft.Tests.Methods;

public class MethodOptionsBinderTests
{
    sealed record SampleOptions : IMethodOptions
    {
        public double[] Grid { get; init; } = [1e6, 1e4, 1e2];
        public int Steps { get; init; } = 8;
        public string Mode { get; init; } = "a";
        public IEnumerable<string> Validate()
        {
            if (Steps < 1) yield return $"steps must be at least 1, got {Steps}";
        }
    }

    static IConfiguration Section(params (string key, string value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.key, v.value))).Build();

    [Fact]
    public void DefaultsWhenNothingIsConfigured()
    {
        var o = MethodOptionsBinder.Bind<SampleOptions>("m", null);
        Assert.Equal([1e6, 1e4, 1e2], o.Grid);
        Assert.Equal(8, o.Steps);
    }

    [Fact]
    public void AConfiguredListReplacesTheDefaultList()
    {
        var o = MethodOptionsBinder.Bind<SampleOptions>("m", Section(("grid:0", "5"), ("grid:1", "7"), ("steps", "3")));
        Assert.Equal([5.0, 7.0], o.Grid);
        Assert.Equal(3, o.Steps);
        Assert.Equal("a", o.Mode);
    }

    [Fact]
    public void BadValuesNameTheOption()
    {
        Assert.Contains("steps must be at least 1", Assert.Throws<MethodOptionsException>(() => MethodOptionsBinder.Bind<SampleOptions>("m", Section(("steps", "0")))).Message);
        var e = Assert.Throws<MethodOptionsException>(() => MethodOptionsBinder.Bind<SampleOptions>("m", Section(("steps", "many"))));
        Assert.Contains("method 'm'", e.Message);
        Assert.Contains("many", e.Message);
        var unknown = Assert.Throws<MethodOptionsException>(() => MethodOptionsBinder.Bind<SampleOptions>("m", Section(("stpes", "2"))));
        Assert.Contains("'stpes'", unknown.Message);
        Assert.Contains("grid, steps, mode", unknown.Message);
    }

    [Fact]
    public void MethodNamesAreSafeForMlflowKeysAndFileNames()
    {
        var e = Assert.Throws<ArgumentException>(() => new MethodDescriptor("lp++", "", typeof(object), _ => null!));
        Assert.Contains("method name 'lp++'", e.Message);
        Assert.Throws<ArgumentException>(() => new MethodDescriptor("CoOp", "", typeof(object), _ => null!));
        Assert.Equal("tip-adapter-f", new MethodDescriptor("tip-adapter-f", "", typeof(object), _ => null!).Name);
    }
}
