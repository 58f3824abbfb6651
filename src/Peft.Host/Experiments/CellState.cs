namespace Peft.Host.Experiments;

/// <summary>Where a cell stands before a run: finished, started but never finished (crash, kill), failed, or not started.</summary>
public enum CellState { Pending, Done, Interrupted, Failed }
