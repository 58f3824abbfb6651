using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.IO;

namespace Peft.Tracking.Outbox;

/// <summary>
/// One process's journal in an outbox folder: <c>&lt;id&gt;.journal</c> (a header line, then one JSON line per
/// tracking operation, each flushed to disk before the operation returns), <c>&lt;id&gt;.progress</c> (how many
/// entries the server confirmed and the local→server id map, replaced atomically), <c>&lt;id&gt;.artifacts/</c>
/// (artifact bytes) and <c>&lt;id&gt;.lock</c>, held exclusively by whoever delivers the journal, so two
/// processes never send the same journal.
/// </summary>
internal sealed class OutboxJournal : IDisposable
{
    public const string Extension = ".journal";
    private const string Format = "peft-tracking-outbox/1";
    private readonly FileStream _lock;
    private FileStream? _appender;
    private int _count;

    private OutboxJournal(string path, FileStream lockStream, string uri)
    {
        JournalPath = path;
        _lock = lockStream;
        Uri = uri;
    }

    public string JournalPath { get; }
    public string Uri { get; }
    public int Delivered { get; private set; }
    public Dictionary<string, string> Ids { get; private set; } = new(StringComparer.Ordinal);
    public int Count => _count;
    public int Pending => _count - Delivered;

    private string Stem => JournalPath[..^Extension.Length];
    private string ProgressPath => Stem + ".progress";
    public string ArtifactsDirectory => Stem + ".artifacts";

    public static OutboxJournal Create(string outboxDirectory, string uri)
    {
        Directory.CreateDirectory(outboxDirectory);
        var name = $"{DateTime.UtcNow:yyyyMMdd'T'HHmmssfff}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
        var stem = Path.Combine(outboxDirectory, name);
        var lockStream = TryLock(stem + ".lock") ?? throw new IOException($"cannot lock the new outbox journal {stem}.lock");
        var journal = new OutboxJournal(stem + Extension, lockStream, uri);
        var header = new JsonObject { ["format"] = Format, ["uri"] = uri, ["created"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), ["pid"] = Environment.ProcessId };
        journal.AppendLine(header);
        return journal;
    }

    /// <summary>Opens an existing journal for delivery; null when another process holds its lock (or it is gone).</summary>
    public static OutboxJournal? TryOpen(string journalPath)
    {
        var stem = journalPath[..^Extension.Length];
        var lockStream = TryLock(stem + ".lock");
        if (lockStream is null) return null;
        if (!File.Exists(journalPath)) // delivered and removed by the process that held the lock before us
        {
            lockStream.Dispose();
            return null;
        }
        var lines = ReadLines(journalPath);
        if (lines.Count == 0 || (string?)lines[0]["format"] != Format || (string?)lines[0]["uri"] is not { } uri)
        {
            lockStream.Dispose();
            throw new InvalidDataException($"{journalPath} is not a Peft tracking outbox journal (no '{Format}' header)");
        }
        var journal = new OutboxJournal(journalPath, lockStream, uri) { _count = lines.Count - 1 };
        journal.LoadProgress();
        return journal;
    }

    // FileShare.None takes flock(LOCK_EX|LOCK_NB) on Unix: released by the OS if the process dies.
    private static FileStream? TryLock(string path)
    {
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Appends one entry and flushes it to disk: after this returns, a crash cannot lose it.</summary>
    public void Append(JsonObject entry)
    {
        AppendLine(entry);
        _count++;
    }

    private void AppendLine(JsonObject entry)
    {
        _appender ??= new FileStream(JournalPath, FileMode.Append, FileAccess.Write, FileShare.Read);
        _appender.Write(Encoding.UTF8.GetBytes(entry.ToJsonString() + "\n"));
        _appender.Flush(flushToDisk: true);
    }

    /// <summary>The entries (without the header). A last line cut short by a crash was never acknowledged and is ignored.</summary>
    public List<JsonObject> Entries() => ReadLines(JournalPath).Skip(1).ToList();

    private static List<JsonObject> ReadLines(string path)
    {
        var text = File.ReadAllText(path, Encoding.UTF8);
        int end = text.LastIndexOf('\n');
        if (end < 0) return [];
        var entries = new List<JsonObject>();
        foreach (var line in text[..end].Split('\n'))
        {
            try
            {
                entries.Add(JsonNode.Parse(line) as JsonObject ?? throw new InvalidDataException($"{path}: a line is not a JSON object"));
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}: line {entries.Count + 1} is not valid JSON ({e.Message})", e);
            }
        }
        return entries;
    }

    /// <summary>Records that entry <paramref name="delivered"/>-1 was confirmed by the server (atomic replace).</summary>
    public void SaveProgress(int delivered)
    {
        Delivered = delivered;
        var ids = new JsonObject();
        foreach (var (local, server) in Ids) ids[local] = server;
        AtomicFile.Replace(ProgressPath, Encoding.UTF8.GetBytes(new JsonObject { ["delivered"] = delivered, ["ids"] = ids }.ToJsonString()));
    }

    private void LoadProgress()
    {
        if (!File.Exists(ProgressPath)) return;
        var progress = JsonNode.Parse(File.ReadAllText(ProgressPath)) as JsonObject
                       ?? throw new InvalidDataException($"{ProgressPath} is not a JSON object");
        Delivered = progress["delivered"]?.GetValue<int>() ?? 0;
        foreach (var (local, server) in progress["ids"] as JsonObject ?? []) Ids[local] = (string)server!;
    }

    /// <summary>Removes the delivered journal and its files; the lock goes last so no one opens a half-removed journal.</summary>
    public void Delete()
    {
        _appender?.Dispose();
        _appender = null;
        File.Delete(JournalPath);
        File.Delete(ProgressPath);
        if (Directory.Exists(ArtifactsDirectory)) Directory.Delete(ArtifactsDirectory, recursive: true);
        File.Delete(Stem + ".lock");
        _lock.Dispose();
    }

    public void Dispose()
    {
        _appender?.Dispose();
        _lock.Dispose();
    }
}
