using System.Text.Json;
using Peft.Data.Augmentation;

namespace Peft.Tests.Augmentation;

/// <summary>
/// Replays the random numbers torch drew for a torchvision transform, failing if the code under test asks for
/// a different kind of draw or a different range than torchvision did at that point.
/// </summary>
sealed class ReplayRandom(JsonElement draws) : IViewRandom
{
    readonly JsonElement[] _draws = draws.EnumerateArray().ToArray();
    int _next;

    public bool Exhausted => _next == _draws.Length;

    JsonElement Take(string kind)
    {
        Assert.True(_next < _draws.Length, $"Draw {_next + 1} requested, torchvision made only {_draws.Length}.");
        var d = _draws[_next++];
        Assert.Equal(kind, d.GetProperty("kind").GetString());
        return d;
    }

    public double NextUniform(double low, double high)
    {
        var d = Take("uniform");
        Assert.Equal(d.GetProperty("low").GetDouble(), low);
        Assert.Equal(d.GetProperty("high").GetDouble(), high);
        return d.GetProperty("value").GetDouble();
    }

    public int NextInteger(int low, int highExclusive)
    {
        var d = Take("integer");
        Assert.Equal(d.GetProperty("low").GetInt32(), low);
        Assert.Equal(d.GetProperty("high").GetInt32(), highExclusive);
        return d.GetProperty("value").GetInt32();
    }
}
