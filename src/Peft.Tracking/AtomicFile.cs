using System.Text;

namespace Peft.Tracking;

/// <summary>
/// Writes that readers never see half-done: the content goes to a temporary file in <c>stagingDirectory</c> (same
/// file system, and a folder MLflow does not list) and is then renamed into place.
/// </summary>
internal static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> content, string? stagingDirectory = null)
    {
        var temp = TempPath(path, stagingDirectory);
        WriteTemp(temp, content);
        try
        {
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public static void WriteText(string path, string content, string? stagingDirectory = null) =>
        Write(path, Encoding.UTF8.GetBytes(content), stagingDirectory);

    /// <summary>Creates <paramref name="path"/> with the content unless it exists; returns false (and leaves it) if it did.</summary>
    public static bool TryCreate(string path, ReadOnlySpan<byte> content, string? stagingDirectory = null)
    {
        var temp = TempPath(path, stagingDirectory);
        WriteTemp(temp, content);
        try
        {
            // Without overwrite, .NET moves with link()+unlink() on Linux: atomic "create if absent".
            File.Move(temp, path, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            TryDelete(temp);
            return false;
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static string TempPath(string path, string? stagingDirectory)
    {
        var dir = stagingDirectory ?? Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        return Path.Combine(dir, $".tmp-{Guid.NewGuid():N}");
    }

    private static void WriteTemp(string temp, ReadOnlySpan<byte> content)
    {
        using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        stream.Write(content);
        stream.Flush(flushToDisk: true);
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
