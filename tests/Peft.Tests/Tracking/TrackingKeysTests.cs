using Peft.Tracking;

namespace Peft.Tests.Tracking;

/// <summary>Issue 10.2: MLflow's limits count Python characters (code points), not UTF-16 units.</summary>
public sealed class TrackingKeysTests
{
    const string Emoji = "😀"; // one code point, two UTF-16 units

    [Fact]
    public void Lengths_count_code_points_and_a_surrogate_pair_is_never_split()
    {
        Assert.Equal(3, TrackingKeys.CodePoints("a" + Emoji + "b"));
        Assert.Equal(2, TrackingKeys.CodePoints("a" + (char)0xD800)); // a lone surrogate counts one, as in Python

        // 6000 code points in 6002 UTF-16 units: at MLflow's param limit, kept whole.
        string atLimit = new string('a', 5998) + Emoji + Emoji;
        Assert.Same(atLimit, TrackingKeys.TruncateValue("p", atLimit, TrackingKeys.MaxParamValueLength, "param"));

        // One code point over: cut after 6000 code points, the pair at the cut kept whole.
        string over = new string('a', 5999) + Emoji + Emoji;
        var cut = TrackingKeys.TruncateValue("p", over, TrackingKeys.MaxParamValueLength, "param");
        Assert.Equal(new string('a', 5999) + Emoji, cut);
        Assert.Equal(6000, TrackingKeys.CodePoints(cut));
        Assert.False(char.IsHighSurrogate(cut[^1]));
    }

    [Fact]
    public void Key_and_experiment_name_limits_count_code_points()
    {
        TrackingKeys.ValidateExperimentName(string.Concat(Enumerable.Repeat(Emoji, 500))); // 1000 UTF-16 units, 500 characters
        var e = Assert.Throws<Peft.Core.Tracking.TrackingException>(() => TrackingKeys.ValidateExperimentName(string.Concat(Enumerable.Repeat(Emoji, 501))));
        Assert.Contains("is 501 characters", e.Message);
    }

    [Theory]
    [InlineData("a%41.json", "'%' is not allowed")]
    [InlineData("x%2e%2e/y", "'%' is not allowed")]
    [InlineData("plot#1.png", "'#' is not allowed")]
    [InlineData("what?.txt", "'?' is not allowed")]
    [InlineData("tab\there.txt", "control character")]
    [InlineData("../up.txt", "no empty, '.' or '..' parts")]
    public void Artifact_paths_an_mlflow_server_would_decode_or_cut_are_refused_with_the_reason(string path, string reason)
    {
        var e = Assert.Throws<Peft.Core.Tracking.TrackingException>(() => TrackingKeys.ValidateArtifactPath(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(reason, e.Message);
    }
}
