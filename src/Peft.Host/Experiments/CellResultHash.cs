using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Peft.Results;

namespace Peft.Host.Experiments;

/// <summary>
/// SHA-256 of a <see cref="CellResult"/>'s values (cell, accuracies, costs, options; doubles in round-trip form), stored
/// in the result file and as the run's tag <c>peft.result_sha256</c>: a value changed by hand (or by a damaged disk)
/// no longer matches, and reports refuse it instead of averaging it.
/// </summary>
public static class CellResultHash
{
    public static string Of(CellResult r)
    {
        static string D(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var text = new StringBuilder()
            .Append(r.Dataset).Append('\n').Append(r.Shots.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append(r.Seed.ToString(CultureInfo.InvariantCulture)).Append('\n').Append(r.Method).Append('\n')
            .Append(D(r.TestTop1)).Append('\n').Append(D(r.TestMeanPerClass)).Append('\n')
            .Append(r.ValTop1 is double v ? D(v) : "-").Append('\n').Append(D(r.FitSeconds)).Append('\n')
            .Append(r.TrainableParameters.ToString(CultureInfo.InvariantCulture)).Append('\n').Append(D(r.PeakMemoryMb)).Append('\n');
        if (r.Oracle) text.Append("oracle\n"); // only when set: results of the ordinary protocol keep their hashes
        // Likewise the cost figures recorded since: older results keep their hashes.
        if (r.Threads is int threads) text.Append("threads=").Append(threads.ToString(CultureInfo.InvariantCulture)).Append('\n');
        if (r.LoadAverage is double load) text.Append("load=").Append(D(load)).Append('\n');
        if (r.MemoryIncreaseMb is double increase) text.Append("memory_increase=").Append(D(increase)).Append('\n');
        // Shift targets only when the dataset has some: other results keep their hashes.
        foreach (var (target, a) in (r.Shift ?? new Dictionary<string, ShiftAccuracy>()).OrderBy(t => t.Key, StringComparer.Ordinal))
            text.Append("shift:").Append(target).Append('=').Append(D(a.TestTop1)).Append(',').Append(D(a.TestMeanPerClass)).Append('\n');
        // Unseen classes only for base-to-new cells and transfer targets: other results keep their hashes.
        static string U(UnseenClassAccuracy a) => a.Applicable ? D(a.TestTop1!.Value) + "," + D(a.TestMeanPerClass ?? double.NaN) : "n/a";
        if (r.New is { } n) text.Append("new=").Append(U(n)).Append('\n');
        foreach (var (target, a) in (r.Transfer ?? new Dictionary<string, UnseenClassAccuracy>()).OrderBy(t => t.Key, StringComparer.Ordinal))
            text.Append("transfer:").Append(target).Append('=').Append(U(a)).Append('\n');
        foreach (var (key, value) in r.Options.OrderBy(o => o.Key, StringComparer.Ordinal)) text.Append(key).Append('=').Append(value).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
