namespace Peft.Host.Experiments;

/// <summary>
/// The exclusive right of one process to run one cell, held until disposed. It is an advisory lock on the cell's lock
/// file (.NET takes <c>flock(LOCK_EX)</c> for <see cref="FileShare.None"/> on Linux), which the kernel releases when the
/// process ends in any way (crash, SIGKILL), so a lease is never stale; the holder file beside it says who holds it.
/// </summary>
public sealed class CellLease : IDisposable
{
    readonly FileStream _lock;
    readonly string _holderPath;
    bool _released;

    internal CellLease(FileStream lockFile, string holderPath)
    {
        _lock = lockFile;
        _holderPath = holderPath;
    }

    /// <summary>Releases the lease; later calls do nothing (the holder file may then be another process's).</summary>
    public void Dispose()
    {
        if (_released) return;
        _released = true;
        // The lock file stays (deleting it would let a waiting opener lock an unlinked file while a third creates a new one).
        try { if (File.Exists(_holderPath)) File.Delete(_holderPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        _lock.Dispose();
    }
}
