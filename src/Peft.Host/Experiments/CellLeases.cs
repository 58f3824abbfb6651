using System.Text.Json;
using Peft.IO;

namespace Peft.Host.Experiments;

/// <summary>
/// Per-cell leases under <c>&lt;output&gt;/leases/&lt;dataset&gt;/&lt;shots&gt;/&lt;seed&gt;/&lt;method&gt;.lock</c>, so that
/// several <c>peft run</c> of one experiment at once (a second terminal, a job started twice, shards given the same
/// index) share the work: a cell is run by the process holding its lease; the others skip it. Leases of a process
/// that died are free at once (the kernel drops its locks).
/// </summary>
public sealed class CellLeases(string outputDir)
{
    public string Dir { get; } = Path.Combine(Path.GetFullPath(outputDir), "leases");

    string BasePath(string cellKey) => Path.Combine(Dir, cellKey.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>The cell's lease, or null when another process holds it.</summary>
    public CellLease? TryAcquire(string cellKey)
    {
        var basePath = BasePath(cellKey);
        Directory.CreateDirectory(Path.GetDirectoryName(basePath)!);
        FileStream stream;
        try
        {
            stream = new FileStream(basePath + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException && File.Exists(basePath + ".lock"))
        {
            return null; // locked by another process (or another lease of this one)
        }
        try
        {
            var holder = new CellLeaseHolder(cellKey, ProcessIdentity.Current, Environment.ProcessId, Environment.MachineName, DateTimeOffset.UtcNow);
            AtomicFile.Replace(basePath + ".json", JsonSerializer.SerializeToUtf8Bytes(holder, LocalResultStore.Json));
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        return new CellLease(stream, basePath + ".json");
    }

    /// <summary>Who holds (or, if it died, last held) the cell's lease; null when nobody does.</summary>
    public CellLeaseHolder? Holder(string cellKey)
    {
        var path = BasePath(cellKey) + ".json";
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<CellLeaseHolder>(File.ReadAllBytes(path), LocalResultStore.Json); }
        catch (Exception e) when (e is IOException or JsonException) { return null; } // just released, or torn by a crash: nobody to name
    }

    /// <summary>The holder of a cell being run right now by a live process (for <c>peft plan</c>), else null.</summary>
    public CellLeaseHolder? LiveHolder(string cellKey) => Holder(cellKey) is { MayBeAlive: true } h ? h : null;
}
