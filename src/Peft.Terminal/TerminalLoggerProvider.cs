using Microsoft.Extensions.Logging;
using Peft.Core.Diagnostics;

namespace Peft.Terminal;

/// <summary>
/// Log lines on stderr in <see cref="PeftLog.Format"/>'s words; on a terminal they go above the live progress bars
/// (<see cref="LiveBars"/>) instead of through them. Filtering is the factory's (<c>peft --verbose</c>: debug).
/// </summary>
public sealed class TerminalLoggerProvider(TextWriter? output = null, bool? interactive = null) : ILoggerProvider
{
    private readonly TextWriter _output = output ?? Console.Error;
    private readonly bool _interactive = interactive ?? (output is null && !Console.IsErrorRedirected);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private void Write(string line)
    {
        if (_interactive) LiveBars.For(_output).WriteLine(line);
        else lock (_output) _output.WriteLine(line);
    }

    private sealed class Logger(TerminalLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Write(PeftLog.Format(logLevel, category, formatter(state, exception), exception));
    }
}
