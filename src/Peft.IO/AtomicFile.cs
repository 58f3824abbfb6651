using System.Runtime.InteropServices;

namespace Peft.IO;

/// <summary>
/// File writes that readers never see half done, and a create-if-absent that concurrent writers (threads or processes)
/// agree on. Every write goes to a complete temporary file first (flushed to disk), which is then renamed or linked into
/// place; the temporary file is removed whatever happens.
/// </summary>
/// <remarks>
/// The temporary file lies in the target's folder, or in <c>stagingDirectory</c> when one is given: a folder on the
/// same file system that readers of the target folder do not list (MLflow lists every file under <c>params/</c>, so
/// the tracking writer stages those in the run's folder). Temporary names are hidden (<c>.name.guid.tmp</c>, see
/// <see cref="IsTemporary"/>).
/// </remarks>
public static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="bytes"/> to <paramref name="path"/>, replacing any file there: readers see the old or the
    /// new content, never a part. Creates the target's folder if needed.
    /// </summary>
    public static void Replace(string path, ReadOnlySpan<byte> bytes, string? stagingDirectory = null)
    {
        var (full, temp) = Stage(path, stagingDirectory);
        try
        {
            WriteTemp(temp, bytes);
            File.Move(temp, full, overwrite: true); // rename(2) / MoveFileEx with replace: atomic
        }
        finally
        {
            DeleteTemp(temp);
        }
    }

    /// <summary>
    /// As <see cref="Replace(string, ReadOnlySpan{byte}, string?)"/>, for content too large to hold in memory:
    /// <paramref name="write"/> streams it into the temporary file (e.g. tensors, one after another).
    /// </summary>
    public static void Replace(string path, Action<Stream> write, string? stagingDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(write);
        var (full, temp) = Stage(path, stagingDirectory);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            DeleteTemp(temp);
        }
    }

    /// <summary>
    /// Creates <paramref name="path"/> with <paramref name="bytes"/> unless it exists: true if this call created it,
    /// false if a file was there (left as it is). Of concurrent callers on the same path exactly one gets true, and
    /// the file holds that caller's complete content.
    /// </summary>
    /// <remarks>
    /// On Unix the complete temporary file is hard-linked to the target with <c>link(2)</c>, which fails with
    /// <c>EEXIST</c> if the target exists: one atomic step. (.NET's <c>File.Move(…, overwrite: false)</c> does not promise
    /// that on Unix.) If <c>link(2)</c> fails otherwise (a file system without hard links, or no usable libc), it falls
    /// back to <c>File.Move(…, overwrite: false)</c>, which on such a file system may check for the target and then
    /// rename (two concurrent callers could then both get true), and which reports real errors (a missing folder, no
    /// permission) with .NET's usual exceptions. On Windows <c>File.Move(…, overwrite: false)</c> is
    /// <c>MoveFileEx</c> without replace, atomic.
    /// </remarks>
    public static bool TryCreate(string path, ReadOnlySpan<byte> bytes, string? stagingDirectory = null)
    {
        var (full, temp) = Stage(path, stagingDirectory);
        try
        {
            WriteTemp(temp, bytes);
            return LinkNoReplace(temp, full);
        }
        finally
        {
            DeleteTemp(temp); // after a link the target keeps the data; this removes the temporary name only
        }
    }

    /// <summary>
    /// Renames the fully written folder <paramref name="tempDirectory"/> to <paramref name="target"/> (same file system):
    /// readers see no folder or the whole one. An empty folder at <paramref name="target"/> is replaced. Returns false
    /// when a non-empty <paramref name="target"/> exists (another writer published first): then
    /// <paramref name="tempDirectory"/> is left as it is, for the caller to compare or delete.
    /// </summary>
    public static bool PublishDirectory(string tempDirectory, string target)
    {
        var source = Path.GetFullPath(tempDirectory);
        var full = Path.GetFullPath(target);
        if (!Directory.Exists(source)) throw new DirectoryNotFoundException($"{source}: the folder to publish does not exist");
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        if (Directory.Exists(full) && !Directory.EnumerateFileSystemEntries(full).Any())
        {
            try { Directory.Delete(full); }
            catch (IOException) when (!Directory.Exists(full) || Directory.EnumerateFileSystemEntries(full).Any()) { /* someone else's turn */ }
        }
        try
        {
            // rename(2) / MoveFileEx: fails if the target is a non-empty folder (or, on Windows, exists at all).
            Directory.Move(source, full);
            return true;
        }
        catch (IOException) when (Path.Exists(full) && Directory.Exists(source))
        {
            return false;
        }
    }

    /// <summary>
    /// Appends <paramref name="record"/> to <paramref name="path"/> (created with its folder if absent) as one piece:
    /// appenders in any number of threads and processes never interleave or overwrite one another's records.
    /// </summary>
    /// <remarks>
    /// .NET's <c>FileMode.Append</c> does not open with <c>O_APPEND</c> on Unix: it seeks to the end once and then
    /// writes at its own position, so two appenders can write over each other (seen: 135 of 800 lines lost). Here the
    /// file is held exclusively (<c>FileShare.None</c>, an advisory lock every .NET process honours) for the seek and
    /// the write; a busy file is retried for up to <paramref name="patience"/> (default 30 s).
    /// </remarks>
    public static void Append(string path, ReadOnlySpan<byte> record, TimeSpan? patience = null)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        using var stream = OpenExclusive(full, FileMode.Append, FileAccess.Write, patience ?? TimeSpan.FromSeconds(30));
        stream.Write(record);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Opens a file that appenders may be holding (<see cref="Append"/>), waiting for them: for readers.</summary>
    public static FileStream OpenShared(string path, TimeSpan? patience = null) =>
        OpenExclusive(Path.GetFullPath(path), FileMode.Open, FileAccess.Read, patience ?? TimeSpan.FromSeconds(30), FileShare.Read);

    // Another holder's lock: EWOULDBLOCK from flock(2) on Unix, ERROR_SHARING_VIOLATION on Windows.
    static bool IsBusy(IOException e) => OperatingSystem.IsWindows() ? (e.HResult & 0xFFFF) == 32 : e.HResult == 11;

    static FileStream OpenExclusive(string path, FileMode mode, FileAccess access, TimeSpan patience, FileShare share = FileShare.None)
    {
        var deadline = DateTime.UtcNow + patience;
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, mode, access, share);
            }
            catch (IOException e) when (IsBusy(e) && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(Math.Min(1 << Math.Min(attempt, 5), 20));
            }
        }
    }

    /// <summary>Whether <paramref name="fileName"/> (a name, not a path) is one of this class's temporary files.</summary>
    public static bool IsTemporary(string fileName)
    {
        const int suffix = 1 + 32 + 4; // ".<32 hex digits>.tmp"
        if (fileName.Length < 1 + suffix || fileName[0] != '.' || !fileName.EndsWith(".tmp", StringComparison.Ordinal))
            return false;
        var guid = fileName.AsSpan(fileName.Length - suffix + 1, 32);
        return fileName[^suffix] == '.' && guid.IndexOfAnyExcept("0123456789abcdef") < 0;
    }

    /// <summary>Longest part of the target's name kept in a temporary name (file names are limited to 255 bytes).</summary>
    const int NameInTemp = 40;

    static (string Full, string Temp) Stage(string path, string? stagingDirectory)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        var staging = stagingDirectory is null ? folder : Path.GetFullPath(stagingDirectory);
        if (stagingDirectory is not null) Directory.CreateDirectory(staging);
        return (full, Path.Combine(staging, TempName(Path.GetFileName(full))));
    }

    /// <summary>A fresh temporary name for a file named <paramref name="fileName"/>: <c>.name.guid.tmp</c>, the name cut short.</summary>
    internal static string TempName(string fileName)
    {
        if (fileName.Length > NameInTemp)
            fileName = fileName[..(char.IsHighSurrogate(fileName[NameInTemp - 1]) ? NameInTemp - 1 : NameInTemp)];
        return $".{fileName}.{Guid.NewGuid():N}.tmp";
    }

    static void WriteTemp(string temp, ReadOnlySpan<byte> bytes)
    {
        using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
    }

    static void DeleteTemp(string temp)
    {
        try { File.Delete(temp); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* nothing better to do; the name is hidden */ }
    }

    /// <summary>Gives <paramref name="temp"/>'s content the name <paramref name="target"/> unless that exists (then false).</summary>
    internal static bool LinkNoReplace(string temp, string target)
    {
        if (!OperatingSystem.IsWindows())
        {
            switch (Link(temp, target))
            {
                case 0: return true;
                case EExist: return false;
                // anything else: the fallback below (see TryCreate)
            }
        }
        try
        {
            File.Move(temp, target, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(target))
        {
            return false;
        }
    }

    /// <summary><c>link(2)</c>: 0 on success, else errno (-1 when no libc with <c>link</c> could be loaded).</summary>
    static int Link(string existing, string newName)
    {
        try
        {
            int rc = OperatingSystem.IsLinux() ? LinkLinux(existing, newName) : LinkLibc(existing, newName);
            return rc == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return -1; // e.g. a libc under another name (musl): the fallback
        }
    }

    const int EExist = 17; // EEXIST on Linux and macOS

    [DllImport("libc.so.6", EntryPoint = "link", SetLastError = true)]
    static extern int LinkLinux([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string newName);

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    static extern int LinkLibc([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string newName);
}
