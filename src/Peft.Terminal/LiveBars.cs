using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Peft.Terminal;

/// <summary>
/// The bars live on one terminal stream, drawn by Spectre.Console as one live display: nested work (the runner's
/// "cells" bar and a cell's "encode" or "fit" bar) stacks instead of fighting over one line. A display starts with the
/// first bar and ends with the last; a finished bar leaves its final line above the display, and messages go above it too.
/// Lock order: never call into Spectre while holding a bar's lock (Spectre's render thread takes its own locks and then
/// reads the bars' text, which is published through a volatile field, without locks).
/// </summary>
internal sealed class LiveBars
{
    private static readonly ConditionalWeakTable<TextWriter, LiveBars> ByWriter = new();

    private readonly IAnsiConsole _console;
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<int, ConsoleProgress> _bars = new();
    private ProgressContext? _context;
    private TaskCompletionSource? _end;
    private Task? _session;
    private Task? _closing;

    private LiveBars(TextWriter output) =>
        _console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Interactive = InteractionSupport.Yes,
            // The console's own stderr: Spectre detects colours and ANSI; any other writer (tests) gets plain ANSI.
            Ansi = ReferenceEquals(output, Console.Error) ? AnsiSupport.Detect : AnsiSupport.Yes,
            ColorSystem = ReferenceEquals(output, Console.Error) ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        });

    public static LiveBars For(TextWriter output) => ByWriter.GetValue(output, w => new LiveBars(w));

    /// <summary>Adds a bar to the display (starting the display if it is the first).</summary>
    public ProgressTask Add(ConsoleProgress bar)
    {
        while (true)
        {
            Task? closing;
            lock (_gate)
            {
                closing = _closing;
                if (closing is null || closing.IsCompleted)
                {
                    _closing = null;
                    _context ??= Start();
                    var task = _context.AddTask(Markup.Escape(bar.Label), new ProgressTaskSettings { AutoStart = true, MaxValue = 1 });
                    _bars[task.Id] = bar;
                    return task;
                }
            }
            closing.Wait(); // the previous display is drawing its last frame; one live display per console at a time
        }
    }

    /// <summary>Removes a finished bar, leaving <paramref name="finalLine"/> above the display; ends the display with the last bar.</summary>
    public void Remove(ProgressTask task, string finalLine)
    {
        Task? wait = null;
        lock (_gate)
        {
            _context?.RemoveTask(task);
            _bars.TryRemove(task.Id, out _);
            _console.WriteLine(finalLine);
            if (_bars.IsEmpty && _context is not null)
            {
                _end!.TrySetResult();
                _closing = wait = _session;
                _context = null;
                _session = null;
            }
        }
        wait?.Wait();
    }

    /// <summary>A line above the display (or a plain line when no display is running).</summary>
    public void WriteLine(string text)
    {
        lock (_gate) _console.WriteLine(text);
    }

    /// <summary>Draws the display now instead of at the next automatic refresh (tests).</summary>
    internal void Refresh()
    {
        lock (_gate) _context?.Refresh();
    }

    private ProgressContext Start()
    {
        var ready = new TaskCompletionSource<ProgressContext>(TaskCreationOptions.RunContinuationsAsynchronously);
        var end = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var progress = _console.Progress()
            .AutoClear(true)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = 24 }, new DetailsColumn(this));
        _end = end;
        _session = Task.Run(() => progress.StartAsync(async ctx =>
        {
            ready.SetResult(ctx);
            await end.Task.ConfigureAwait(false);
        }));
        return ready.Task.GetAwaiter().GetResult();
    }

    /// <summary>The bar's own text after the bar: percentage, amount, speed and ETA (<see cref="ConsoleProgress.Details"/>).</summary>
    private sealed class DetailsColumn(LiveBars owner) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(owner._bars.TryGetValue(task.Id, out var bar) ? bar.Details : "");
    }
}
