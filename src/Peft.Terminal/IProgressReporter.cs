namespace Peft.Terminal;

/// <summary>Something that is told how far a piece of work has got (bytes downloaded, images encoded, ...).</summary>
public interface IProgressReporter : IDisposable
{
    /// <summary>The amount of work in all, when known (it may become known after the bar was created).</summary>
    long? Total { get; set; }

    /// <summary>Reports the amount done so far (absolute, not a delta).</summary>
    void Report(long done);
}
