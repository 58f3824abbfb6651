using Peft.Host.Experiments;
using Peft.Host.Plugins;
using Peft.Methods.ZeroShot;

namespace Peft.Tests.Experiments;

/// <summary>Experiment-file values that used to pass validation and do something else: each is now a problem naming its key.</summary>
public sealed class ExperimentInputAbuseTests : TempDirectory
{
    readonly MethodCatalog _catalog = MethodCatalog.From(new FakeMethods(), new ZeroShotPlugin());

    public ExperimentInputAbuseTests() : base("peft-input-abuse-")
    {
        Directory.CreateDirectory(Temp("data"));
        File.WriteAllText(Temp("model.safetensors"), "not read by validation");
        File.WriteAllText(Temp("exp.json"), """
            {
              "name": "abuse", "backbone": { "model": "model.safetensors" },
              "datasets": [ { "name": "a", "type": "imagefolder", "root": "data" } ],
              "shots": [1], "seeds": [1], "methods": { "zero-shot": {}, "fake": {} }
            }
            """);
    }

    ExperimentSpec Read(params string[] sets) =>
        new ExperimentReader(_catalog) { CurrentDirectory = Temp("cwd"), DefaultCacheDir = Temp("cache") }
            .Read(ExperimentConfiguration.Load(Temp("exp.json"), sets, new Dictionary<string, string>()));

    IReadOnlyList<string> Problems(params string[] sets) => Assert.Throws<ExperimentValidationException>(() => Read(sets)).Problems;

    [Theory]
    [InlineData("sqlite:///x.db")]
    [InlineData("postgresql://user@host/db")]
    [InlineData("databricks")]
    [InlineData("databricks://profile")]
    [InlineData("s3://bucket/mlruns")]
    public void UnsupportedTrackingUrisAreRefusedNotMadeIntoFolders(string uri)
    {
        var problem = Assert.Single(Problems($"tracking:uri={uri}"));
        Assert.StartsWith($"tracking:uri: tracking URI '{uri}' is not supported; use http://", problem);
        Assert.False(Directory.Exists(Temp("cwd")));
    }

    [Fact]
    public void TrackingUrisWeWriteToStayAccepted()
    {
        Assert.Equal(Temp("cwd/mlruns"), Read("tracking:uri=mlruns").Tracking.Uri);
        Assert.Equal("/tmp/x/mlruns", Read("tracking:uri=file:///tmp/x/mlruns").Tracking.Uri);
        Assert.Equal("http://host:5000", Read("tracking:uri=http://host:5000").Tracking.Uri);
    }

    [Theory]
    [InlineData("""{"x": 1}""")]
    [InlineData("""[{"x": 1}, 2]""")]
    [InlineData("""[[1], {"x": 2}]""")]
    public void AnObjectAsAnOptionValueIsAnErrorNamingTheMethodAndOption(string value)
    {
        // correctClasses (a number) and widths (a list): an object is neither a value, a grid nor a list.
        var problem = Assert.Single(Problems($"methods:fake:correctClasses={value}"));
        Assert.Equal("methods:fake:correctClasses: fake option correctClasses takes a value or a list of values, not an object ({…})", problem);
        problem = Assert.Single(Problems($"methods:fake:widths={value}"));
        Assert.StartsWith("methods:fake:widths: fake option widths takes a value or a list of values, not an object", problem);
    }

    [Fact]
    public void ANameTooLongOrWithAControlCharacterFailsAtPlanTime()
    {
        var problem = Assert.Single(Problems($"name={new string('a', 300)}"));
        Assert.StartsWith("name: 'aaaa", problem);
        Assert.Contains("300 characters", problem);
        // Fewer characters but more than the 255 bytes a file name may have.
        Assert.Contains("(256 bytes)", Assert.Single(Problems($"name={new string('é', 128)}")));
        Assert.Contains("control character", Assert.Single(Problems("name=a\nb")));
        var dataset = Assert.Single(Problems($"datasets:0:name={new string('d', 129)}"));
        Assert.StartsWith("datasets:0:name: 'dddd", dataset);
        Assert.Contains("at most 128 characters", dataset);
        Assert.StartsWith("tracking:experimentName: 501 characters", Assert.Single(Problems($"tracking:experimentName={new string('e', 501)}")));
        Assert.Equal(new string('a', 128), Read($"name={new string('a', 128)}").Name);
    }

    [Fact]
    public void AnOutputOrCachePathThatIsAFileFailsAtPlanTime()
    {
        File.WriteAllText(Temp("afile"), "");
        Assert.Equal([$"output: {Temp("afile")} is a file; give a folder"], Problems($"output={Temp("afile")}"));
        Assert.Equal([$"cache: {Temp("afile")} is a file; give a folder"], Problems($"cache={Temp("afile")}"));
    }
}
