namespace Peft.Core;

/// <summary>What a method adapts to: the classes (in label order), their prompt templates, and the cell's coordinates.</summary>
public sealed record FewShotTask(string Dataset, IReadOnlyList<string> ClassNames, IReadOnlyList<string> Templates, int Shots, int Seed)
{
    public int NumClasses => ClassNames.Count;
}
