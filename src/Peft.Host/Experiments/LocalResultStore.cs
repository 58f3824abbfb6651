using System.Text.Json;
using System.Text.Json.Serialization;
using Peft.IO;
using Peft.Results;

namespace Peft.Host.Experiments;

/// <summary>
/// The runner's local record of an experiment under its output folder: <c>results/</c> (one <see cref="CellRecord"/>
/// per finished cell) and <c>state/</c> (one <see cref="CellMarker"/> per started, unfinished cell), both as
/// <c>&lt;dataset&gt;/&lt;shots&gt;/&lt;seed&gt;/&lt;method&gt;.json</c>. Files are written whole to a temporary name and
/// renamed, so a killed process never leaves half a file.
/// </summary>
public sealed class LocalResultStore(string outputDir)
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ResultsDir { get; } = Path.Combine(Path.GetFullPath(outputDir), "results");
    public string StateDir { get; } = Path.Combine(Path.GetFullPath(outputDir), "state");

    public string ResultPath(string cellKey) => Path.Combine(ResultsDir, cellKey.Replace('/', Path.DirectorySeparatorChar) + ".json");
    public string MarkerPath(string cellKey) => Path.Combine(StateDir, cellKey.Replace('/', Path.DirectorySeparatorChar) + ".json");

    public CellRecord? TryReadResult(string cellKey) => Read<CellRecord>(ResultPath(cellKey));
    public CellMarker? TryReadMarker(string cellKey) => Read<CellMarker>(MarkerPath(cellKey));

    public void WriteResult(CellRecord record) => AtomicFile.Replace(ResultPath(record.Cell), JsonSerializer.SerializeToUtf8Bytes(record, Json));
    public void WriteMarker(CellMarker marker) => AtomicFile.Replace(MarkerPath(marker.Cell), JsonSerializer.SerializeToUtf8Bytes(marker, Json));

    public void DeleteMarker(string cellKey)
    {
        var path = MarkerPath(cellKey);
        if (File.Exists(path)) File.Delete(path);
    }

    /// <summary>Every finished cell's result (what <c>peft report</c> reads), in path order.</summary>
    public IReadOnlyList<CellResult> ReadAll() => ReadAllRecords().Select(r => r.Result).ToList();

    /// <summary>Every finished cell's record, in path order.</summary>
    public IReadOnlyList<CellRecord> ReadAllRecords() => !Directory.Exists(ResultsDir) ? []
        : Directory.EnumerateFiles(ResultsDir, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => Read<CellRecord>(f)!).ToList();

    static T? Read<T>(string path) where T : class
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllBytes(path), Json)
                   ?? throw new InvalidDataException($"{path}: empty record");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a readable {typeof(T).Name} ({e.Message}); delete it to rerun the cell", e);
        }
    }
}
