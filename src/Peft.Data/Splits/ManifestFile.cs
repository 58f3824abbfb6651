using Peft.IO;

namespace Peft.Data.Splits;

/// <summary>Create-or-verify writes of split files, on <see cref="AtomicFile"/>.</summary>
static class ManifestFile
{
    /// <summary>
    /// Writes <paramref name="bytes"/> to <paramref name="path"/>. <paramref name="differs"/> says why an existing file is
    /// not the same content (null = same). Without <paramref name="overwrite"/> the file is created with
    /// <see cref="AtomicFile.TryCreate"/>, so of two concurrent writers exactly one creates it and the other compares
    /// against it; with <paramref name="overwrite"/> a different file is replaced (<see cref="AtomicFile.Replace"/>).
    /// </summary>
    public static WriteOutcome Write(string path, byte[] bytes, bool overwrite, Func<string, string?> differs, string what)
    {
        var full = Path.GetFullPath(path);
        if (!overwrite)
            return File.Exists(full) || !AtomicFile.TryCreate(full, bytes)
                ? Existing(full, differs, what) // there before, or another writer got there first
                : WriteOutcome.Created;
        bool existed = File.Exists(full);
        if (existed && differs(full) is null)
            return WriteOutcome.Unchanged;
        AtomicFile.Replace(full, bytes);
        return existed ? WriteOutcome.Replaced : WriteOutcome.Created;
    }

    static WriteOutcome Existing(string full, Func<string, string?> differs, string what) =>
        differs(full) is string why
            ? throw new IOException($"{full}: refusing to overwrite an existing {what}: {why}; delete it or ask to overwrite it (peft data split --force)")
            : WriteOutcome.Unchanged;
}
