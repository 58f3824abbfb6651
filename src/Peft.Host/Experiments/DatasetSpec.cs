namespace Peft.Host.Experiments;

/// <summary>One dataset of an experiment: the name results use, the reader (a DatasetRegistry name) and its folder (absolute).</summary>
public sealed record DatasetSpec(string Name, string Type, string Root);
