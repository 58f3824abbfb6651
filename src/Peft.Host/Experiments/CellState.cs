namespace Peft.Host.Experiments;

/// <summary>
/// Where a cell stands before a run: finished, started but never finished (crash, kill), failed, not started, or being
/// run right now by a live invocation that holds its lease, or finished with a result whose values no longer match
/// their checksum (edited by hand or damaged; <c>peft run</c> restores it from the tracker or reruns the cell).
/// </summary>
public enum CellState { Pending, Done, Interrupted, Failed, Running, Edited }
