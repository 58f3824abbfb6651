using System.Diagnostics;
using System.Globalization;
using System.Text;
using Spectre.Console;

namespace Peft.Terminal;

/// <summary>
/// A progress bar on a text stream (stderr by default). On a terminal it is a live Spectre.Console bar
/// (<c>label ━━━━━╸──── 42%  123.4/890.1 MB  12.3 MB/s  ETA 01:02</c>); bars alive at the same time stack in one display
/// (<see cref="LiveBars"/>), and a finished bar leaves its final line. When the stream is redirected (a log file, CI) it
/// writes a plain line every <see cref="LineInterval"/> and one at the end instead.
/// <code>using var bar = new ConsoleProgress("ViT-B-16.pt", total, "B"); bar.Report(done);</code>
/// Unit <c>"B"</c> shows bytes as MB; any other unit is shown as a count (<c>1200/5000 images</c>).
/// Thread-safe: <see cref="Report"/> may be called from any thread.
/// </summary>
public sealed class ConsoleProgress : IProgressReporter
{
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100); // of the live bar's text
    private static readonly TimeSpan SpeedWindow = TimeSpan.FromSeconds(5);

    private readonly object _gate = new();
    private readonly TextWriter _output;
    private readonly bool _interactive;
    private readonly Func<TimeSpan> _clock;
    private readonly Queue<(TimeSpan At, long Done)> _samples = new();
    private long? _total;
    private long _done;
    private bool _started;
    private TimeSpan _lastWrite = TimeSpan.MinValue;
    private bool _disposed;
    private readonly LiveBars? _live;
    private ProgressTask? _task;
    private volatile string _details = "";

    /// <param name="label">What is being done (a file name, "encode").</param>
    /// <param name="total">The amount of work in all, or null when unknown.</param>
    /// <param name="unit">"B" for bytes (shown as MB), otherwise the name of the counted thing.</param>
    /// <param name="output">Where to write; stderr by default.</param>
    /// <param name="interactive">Redraw in place (terminal) or write plain lines; by default: in place when
    /// <paramref name="output"/> is the console's stderr and stderr is not redirected.</param>
    /// <param name="lineInterval">Plain-line mode: at most one line per this interval (default 5 s).</param>
    /// <param name="clock">Elapsed time source (tests); a <see cref="Stopwatch"/> by default.</param>
    public ConsoleProgress(string label, long? total = null, string unit = "B", TextWriter? output = null,
        bool? interactive = null, TimeSpan? lineInterval = null, Func<TimeSpan>? clock = null)
    {
        Label = label;
        _total = total;
        Unit = unit;
        _output = output ?? Console.Error;
        _interactive = interactive ?? (output is null && !Console.IsErrorRedirected);
        LineInterval = lineInterval ?? TimeSpan.FromSeconds(5);
        if (clock is null)
        {
            var sw = Stopwatch.StartNew();
            clock = () => sw.Elapsed;
        }
        _clock = clock;
        if (_interactive) _live = LiveBars.For(_output);
    }

    public string Label { get; }
    public string Unit { get; }

    /// <summary>
    /// When set, the ETA shown: the work's own estimate of what is left (e.g. per-cell costs), instead of the amount
    /// left divided by the recent speed; null from it shows no ETA.
    /// </summary>
    public Func<TimeSpan?>? Remaining { get; set; }
    public TimeSpan LineInterval { get; }
    public bool Interactive => _interactive;

    public long? Total
    {
        get { lock (_gate) return _total; }
        set
        {
            lock (_gate) _total = value;
            if (_task is { } task) Show(task, value, Done);
        }
    }

    public long Done
    {
        get { lock (_gate) return _done; }
    }

    public void Report(long done)
    {
        long? total;
        lock (_gate)
        {
            if (_disposed) return;
            var now = _clock();
            _done = done;
            _samples.Enqueue((now, done));
            while (_samples.Count > 2 && now - _samples.Peek().At > SpeedWindow) _samples.Dequeue();

            var interval = _interactive ? RedrawInterval : LineInterval;
            bool first = !_started;
            _started = true;
            // Plain lines: the first report (usually 0 or the resumed offset) is not worth a line of its own.
            if (first && !_interactive) { _lastWrite = now; return; }
            if (_lastWrite != TimeSpan.MinValue && now - _lastWrite < interval) return;
            _lastWrite = now;
            if (!_interactive)
            {
                _output.WriteLine(Render(now, final: false));
                _output.Flush();
                return;
            }
            _details = DetailsAt(now);
            total = _total;
        }
        // Outside the lock: Spectre's render thread reads the bar (see LiveBars).
        Show(_task ??= _live!.Add(this), total, done);
    }

    /// <summary>Writes a message on a line of its own (on a terminal: above the live bars).</summary>
    public void Message(string text)
    {
        if (_live is not null)
        {
            _live.WriteLine(text);
            return;
        }
        lock (_gate)
        {
            _output.WriteLine(text);
            _output.Flush();
        }
    }

    /// <summary>Adds <paramref name="delta"/> to the amount done.</summary>
    public void Increment(long delta = 1)
    {
        lock (_gate) Report(_done + delta);
    }

    /// <summary>Writes the final state (on a terminal: removes the live bar and leaves its final line). Further reports are ignored.</summary>
    public void Dispose()
    {
        string final;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            if (!_started) return;
            final = Render(_clock(), final: true);
            if (!_interactive)
            {
                _output.WriteLine(final);
                _output.Flush();
                return;
            }
        }
        if (_task is { } task) _live!.Remove(task, final);
        else _live!.WriteLine(final);
    }

    private static void Show(ProgressTask task, long? total, long done)
    {
        task.IsIndeterminate = total is not > 0;
        if (total is long t && t > 0)
        {
            task.MaxValue = t;
            task.Value = Math.Min(done, t);
        }
    }

    /// <summary>The live bar's text after the bar: percentage, amount, speed, ETA (what <see cref="Render()"/> shows after the label).</summary>
    internal string Details => _details;

    private string DetailsAt(TimeSpan now)
    {
        var line = Render(now, final: false);
        return line[(Label.Length + 2)..];
    }

    /// <summary>The status line for the current state (no carriage return, no newline).</summary>
    public string Render() { lock (_gate) return Render(_clock(), final: false); }

    private string Render(TimeSpan now, bool final)
    {
        var sb = new StringBuilder();
        sb.Append(Label).Append("  ");
        double? speed = Speed(now);
        if (_total is long total && total > 0)
        {
            double fraction = Math.Clamp((double)_done / total, 0, 1);
            sb.Append(string.Create(CultureInfo.InvariantCulture, $"{fraction * 100,3:0}%"));
            sb.Append("  ").Append(FormatAmount(_done, total)).Append(' ').Append(UnitLabel);
        }
        else
        {
            sb.Append(FormatAmount(_done, null)).Append(' ').Append(UnitLabel);
        }
        if (speed is double s && s > 0)
        {
            sb.Append("  ").Append(FormatSpeed(s));
            if (!final && Remaining is null && _total is long t && t > _done)
                sb.Append("  ETA ").Append(FormatDuration(TimeSpan.FromSeconds((t - _done) / s)));
        }
        if (!final && Remaining?.Invoke() is TimeSpan left && _total is long t2 && t2 > _done)
            sb.Append("  ETA ").Append(FormatDuration(left));
        if (final && _total is long tt && _done < tt) sb.Append("  (incomplete)");
        return sb.ToString();
    }

    private bool IsBytes => Unit == "B";
    private string UnitLabel => IsBytes ? "MB" : Unit;

    private double? Speed(TimeSpan now)
    {
        if (_samples.Count < 2) return null;
        var (t0, d0) = _samples.Peek();
        var seconds = (now - t0).TotalSeconds;
        if (seconds <= 0) return null;
        return (_done - d0) / seconds;
    }

    private string FormatAmount(long done, long? total)
    {
        if (IsBytes)
        {
            var d = (done / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);
            return total is long t ? d + "/" + (t / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) : d;
        }
        return total is long tot
            ? done.ToString(CultureInfo.InvariantCulture) + "/" + tot.ToString(CultureInfo.InvariantCulture)
            : done.ToString(CultureInfo.InvariantCulture);
    }

    private string FormatSpeed(double perSecond) => IsBytes
        ? (perSecond / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MB/s"
        : perSecond.ToString(perSecond >= 100 ? "0" : "0.0", CultureInfo.InvariantCulture) + " " + Unit + "/s";

    internal static string FormatDuration(TimeSpan t)
    {
        if (t.TotalHours >= 100) return ">99h";
        return t.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}")
            : string.Create(CultureInfo.InvariantCulture, $"{t.Minutes:00}:{t.Seconds:00}");
    }
}
