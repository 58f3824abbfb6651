using System.Runtime.InteropServices;

namespace Peft.Data.Splits;

/// <summary>Create-or-verify file writes: a temporary file in the target folder, flushed, then renamed into place.</summary>
static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="bytes"/> to <paramref name="path"/>. <paramref name="differs"/> says why an existing file is not
    /// the same content (null = same). Without <paramref name="overwrite"/>, the complete temporary file is put in place
    /// with an operation that fails if the target exists (<c>link(2)</c> on Unix, <c>MoveFileEx</c> without replace on
    /// Windows), so of two concurrent writers exactly one creates the file and the other compares against it.
    /// (.NET's <c>File.Move(..., overwrite: false)</c> is not enough on Unix: it checks for the target, then renames.)
    /// </summary>
    public static WriteOutcome Write(string path, byte[] bytes, bool overwrite, Func<string, string?> differs, string what)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        bool existed = File.Exists(full);
        if (existed && !overwrite)
            return Existing(full, differs, what);

        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            if (overwrite)
            {
                if (existed && differs(full) is null)
                    return WriteOutcome.Unchanged;
                File.Move(temp, full, overwrite: true);
                return existed ? WriteOutcome.Replaced : WriteOutcome.Created;
            }
            return MoveNoReplace(temp, full)
                ? WriteOutcome.Created
                : Existing(full, differs, what); // another writer got there first
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }

    static WriteOutcome Existing(string full, Func<string, string?> differs, string what) =>
        differs(full) is string why
            ? throw new IOException($"{full}: refusing to overwrite an existing {what}: {why}; delete it or ask to overwrite it (peft data split --force)")
            : WriteOutcome.Unchanged;

    /// <summary>Moves <paramref name="temp"/> to <paramref name="target"/> unless the target exists (then false), atomically.</summary>
    internal static bool MoveNoReplace(string temp, string target)
    {
        if (!OperatingSystem.IsWindows())
        {
            int rc, errno;
            try
            {
                rc = OperatingSystem.IsLinux() ? LinkLinux(temp, target) : LinkLibc(temp, target);
                errno = Marshal.GetLastPInvokeError();
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                rc = -1;
                errno = -1; // no usable libc (e.g. musl under another name): fall back below
            }
            if (rc == 0)
                return true; // the caller deletes the temporary name; the target keeps the data
            if (errno == EExist)
                return false;
            // Other errors (a file system without hard links, ...): fall back to check-then-rename below.
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

    const int EExist = 17; // EEXIST on Linux and macOS

    [DllImport("libc.so.6", EntryPoint = "link", SetLastError = true)]
    static extern int LinkLinux([MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    static extern int LinkLibc([MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);
}
