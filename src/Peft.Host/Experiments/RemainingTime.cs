namespace Peft.Host.Experiments;

/// <summary>
/// The ETA of a run from what its cells cost so far, per method and shots: a CoOp cell at 16 shots costs minutes, a
/// zero-shot cell a fraction of a second, so "cells left ÷ cells per second" jumps between minutes and hours. Each
/// remaining cell is estimated from the finished cells of the same method and shots; else from the same method at
/// other shots, scaled by shots (training cost grows with the number of training images); else from the mean cell.
/// Each (dataset, shots, seed) group not started yet adds the mean time its split and features took.
/// </summary>
public sealed class RemainingTime
{
    readonly Dictionary<(string Method, int Shots), (double Seconds, int Count)> _cells = [];
    double _groupSeconds;
    int _groups;

    public void ObserveCell(string method, int shots, double seconds)
    {
        var (s, n) = _cells.GetValueOrDefault((method, shots));
        _cells[(method, shots)] = (s + seconds, n + 1);
    }

    public void ObserveGroup(double seconds)
    {
        _groupSeconds += seconds;
        _groups++;
    }

    /// <summary>
    /// A cell's cost before its method finished a cell in this run (e.g. from this machine's history,
    /// <see cref="CostProjection"/>); null where unknown.
    /// </summary>
    public Func<ExperimentCell, double?>? Prior { get; init; }

    /// <summary>Estimated seconds of one cell; null before any cell finished.</summary>
    public double? CellSeconds(string method, int shots) => Observed(method, shots) ?? Mean();

    double? Observed(string method, int shots)
    {
        if (_cells.TryGetValue((method, shots), out var same)) return same.Seconds / same.Count;
        var sameMethod = _cells.Where(c => c.Key.Method == method).ToList();
        if (sameMethod.Count > 0)
            return sameMethod.Average(c => c.Value.Seconds / c.Value.Count * shots / c.Key.Shots);
        return null;
    }

    double? Mean() => _cells.Count == 0 ? null : _cells.Values.Sum(c => c.Seconds) / _cells.Values.Sum(c => c.Count);

    /// <summary>Estimated time for <paramref name="cells"/> (whose groups in <paramref name="newGroups"/> are not prepared yet); null while a cell has no estimate.</summary>
    public TimeSpan? For(IEnumerable<ExperimentCell> cells, int newGroups)
    {
        double total = 0;
        foreach (var cell in cells)
        {
            if ((Observed(cell.Method, cell.Shots) ?? Prior?.Invoke(cell) ?? Mean()) is not double s) return null;
            total += s;
        }
        if (_groups > 0) total += newGroups * _groupSeconds / _groups;
        return TimeSpan.FromSeconds(total);
    }
}
