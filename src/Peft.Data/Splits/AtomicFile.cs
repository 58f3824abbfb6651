namespace Peft.Data.Splits;

/// <summary>Create-or-verify file writes: a temporary file in the target folder, flushed, then renamed into place.</summary>
static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="bytes"/> to <paramref name="path"/>. <paramref name="differs"/> says why an existing file is not
    /// the same content (null = same). Without <paramref name="overwrite"/>, the rename does not replace an existing file
    /// (.NET moves without replacing through link+unlink on Unix), so of two concurrent writers exactly one creates the file
    /// and the other then compares against it.
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
            try
            {
                File.Move(temp, full, overwrite: false);
                return WriteOutcome.Created;
            }
            catch (IOException) when (File.Exists(full))
            {
                return Existing(full, differs, what); // another writer got there first
            }
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }

    static WriteOutcome Existing(string full, Func<string, string?> differs, string what) =>
        differs(full) is string why
            ? throw new IOException($"{full}: refusing to overwrite an existing {what}: {why}; delete it or ask to overwrite")
            : WriteOutcome.Unchanged;
}
