using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Peft.Core.Diagnostics;
using Peft.IO;

namespace Peft.Host.Experiments;

/// <summary>What one finished cell cost on this machine: the basis of <c>peft plan</c>'s projection.</summary>
/// <param name="Method">The installed method (plugin name), so variants of it share a history.</param>
/// <param name="Backbone">The backbone key (<see cref="CellCostLog.BackboneKey"/>): costs of different backbones never mix.</param>
/// <param name="SecondsPerPoint">Wall-clock seconds of the cell (fit, evaluation, logging) divided by its grid points.</param>
public sealed record CellCost(string Method, string Backbone, string Dataset, int Shots, int GridPoints, int Threads,
    double SecondsPerPoint, string Experiment);

/// <summary>
/// The machine's cell costs, one JSON line per finished cell in <c>$PEFT_HOME/costs/cells.jsonl</c> (see
/// <see cref="PeftHome"/>), appended by every run of every experiment, shards at once included (<see cref="AtomicFile.Append"/>);
/// a damaged line (a crash mid-write, an edit) is skipped when read.
/// </summary>
public sealed class CellCostLog(string path)
{
    static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public string Path { get; } = System.IO.Path.GetFullPath(path);

    /// <summary>The log of this machine (<c>$PEFT_HOME/costs/cells.jsonl</c>).</summary>
    public static CellCostLog Default(Func<string, string?>? env = null) =>
        new(System.IO.Path.Combine(PeftHome.Resolve("costs", env), "cells.jsonl"));

    /// <summary>How a backbone is told apart: its checkpoint's file name and compute dtypes.</summary>
    public static string BackboneKey(BackboneSpec backbone) =>
        System.IO.Path.GetFileName(backbone.Model.TrimEnd('/', '\\')) + "/" + backbone.Dtype +
        (backbone.EncoderDtype is { } e && e != backbone.Dtype ? "+encoder-" + e : "");

    /// <summary>The installed method a cell runs (a variant's plugin), under which its cost is recorded.</summary>
    public string MethodOf(ExperimentSpec spec, ExperimentCell cell) => spec.Method(cell.Method).Descriptor.Name;

    public void Append(CellCost cost)
    {
        try
        {
            AtomicFile.Append(Path, Encoding.UTF8.GetBytes(JsonSerializer.Serialize(cost, Json) + "\n"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A projection is a convenience: a read-only home must not fail a cell.
            PeftLog.For(typeof(CellCostLog).FullName!).LogDebug("{Path}: cell cost not recorded ({Message})", Path, e.Message);
        }
    }

    /// <summary>Every well-formed record, oldest first (none when the log does not exist).</summary>
    public IReadOnlyList<CellCost> Read()
    {
        if (!File.Exists(Path)) return [];
        var costs = new List<CellCost>();
        int skipped = 0;
        using (var stream = AtomicFile.OpenShared(Path))
        using (var reader = new StreamReader(stream, Encoding.UTF8))
            while (reader.ReadLine() is { } line)
            {
                if (line.Length == 0) continue;
                try
                {
                    if (JsonSerializer.Deserialize<CellCost>(line, Json) is { Method: not null, Backbone: not null, Dataset: not null } c &&
                        double.IsFinite(c.SecondsPerPoint) && c.SecondsPerPoint >= 0 && c.Shots > 0) costs.Add(c);
                    else skipped++;
                }
                catch (JsonException) { skipped++; }
            }
        if (skipped > 0)
            PeftLog.For(typeof(CellCostLog).FullName!).LogDebug("{Path}: {Skipped} damaged lines skipped", Path, skipped.ToString(CultureInfo.InvariantCulture));
        return costs;
    }
}
