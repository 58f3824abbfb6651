namespace Peft.Core.Tracking;

/// <summary>
/// A tracking request that failed. <see cref="Transient"/> is true when retrying later may succeed (server
/// unreachable, 408/429/5xx after the client's own retries); false when the request itself is refused (bad
/// parameter, authentication), which no outbox can fix.
/// </summary>
public sealed class TrackingException(string message, bool transient, Exception? inner = null) : Exception(message, inner)
{
    public bool Transient { get; } = transient;
}
