using Microsoft.Extensions.Logging;

namespace Peft.Core.Diagnostics;

/// <summary>
/// Where the framework's diagnostics go: libraries and plugins log through <see cref="ILogger"/>s from here. Warnings
/// and notes are always shown; debug lines only with <c>peft --verbose</c>. The command line installs a factory that
/// writes above its progress bars; until then (tests, a plugin's own tests, the SDK) lines go to stderr.
/// One format everywhere (<see cref="Format"/>): <c>warning: …</c>, <c>error: …</c>, notes as they are,
/// <c>debug: [category] …</c>.
/// </summary>
public static class PeftLog
{
    private static ILoggerFactory _factory = new StderrLoggerFactory();

    public static ILoggerFactory Factory
    {
        get => _factory;
        set => _factory = value ?? throw new ArgumentNullException(nameof(value));
    }

    public static ILogger For(string category) => Factory.CreateLogger(category);

    /// <summary>
    /// Logs a line as the libraries' warning hooks word it (<c>warning: …</c> is a warning, anything else a note), so a
    /// hook's default can be the log while tests still capture the same text.
    /// </summary>
    public static void Line(string category, string line)
    {
        const string Warning = "warning: ";
        if (line.StartsWith(Warning, StringComparison.Ordinal)) For(category).LogWarning("{Message}", line[Warning.Length..]);
        else For(category).LogInformation("{Message}", line);
    }

    /// <summary>The line shown for a message at a level.</summary>
    public static string Format(LogLevel level, string category, string message, Exception? exception = null)
    {
        var line = level switch
        {
            LogLevel.Trace or LogLevel.Debug => $"debug: [{Short(category)}] {message}",
            LogLevel.Information => message,
            LogLevel.Warning => "warning: " + message,
            _ => "error: " + message,
        };
        return exception is null ? line : line + Environment.NewLine + exception;
    }

    // "Peft.Tracking.Rest.MlflowHttp" → "Tracking.Rest.MlflowHttp": every category is ours.
    private static string Short(string category) => category.StartsWith("Peft.", StringComparison.Ordinal) ? category[5..] : category;

    /// <summary>Notes and warnings to stderr: what a process that did not configure logging gets.</summary>
    private sealed class StderrLoggerFactory : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new StderrLogger(categoryName);
        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("set PeftLog.Factory to a LoggerFactory instead");
        public void Dispose() { }
    }

    private sealed class StderrLogger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) Console.Error.WriteLine(Format(logLevel, category, formatter(state, exception), exception));
        }
    }
}
