using Peft.Results;
namespace Peft.Host.Experiments;

/// <summary>One cell of the grid: a method on one (dataset, shots, seed) split. <see cref="Index"/> is its place in the plan.</summary>
public sealed record ExperimentCell(int Index, string Dataset, int Shots, int Seed, string Method)
{
    /// <summary><c>dataset/shots/seed/method</c>: the <c>peft.cell</c> tag and the local result's path.</summary>
    public string Key => TrackingNames.CellKey(Dataset, Shots, Seed, Method);

    /// <summary>The split (and cached features) this cell shares with the other methods.</summary>
    public (string Dataset, int Shots, int Seed) Group => (Dataset, Shots, Seed);

    public string RunName => TrackingNames.CellRunName(Dataset, Shots, Seed, Method);
}
