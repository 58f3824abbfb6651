namespace Peft.Data.Augmentation;

/// <summary>
/// The random numbers an augmentation consumes, in the order torchvision's transforms consume theirs.
/// Injectable so tests can replay the numbers torch drew and check the geometry against torchvision exactly.
/// </summary>
public interface IViewRandom
{
    /// <summary>A uniform real in [<paramref name="low"/>, <paramref name="high"/>) (torch's <c>uniform_(low, high)</c>, <c>rand</c> for (0, 1)).</summary>
    double NextUniform(double low, double high);

    /// <summary>A uniform integer in [<paramref name="low"/>, <paramref name="highExclusive"/>) (torch's <c>randint(low, high)</c>).</summary>
    int NextInteger(int low, int highExclusive);
}
