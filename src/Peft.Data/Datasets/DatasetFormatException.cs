namespace Peft.Data.Datasets;

/// <summary>
/// A dataset or split file that cannot be used; the message names the file (and entry) at fault.
/// Derives from <see cref="IOException"/> (like <c>ImageDecodeException</c>) so callers that already treat bad input files as user errors
/// (the command line's error handler) report it as one line.
/// </summary>
public sealed class DatasetFormatException(string file, string problem, Exception? inner = null)
    : IOException($"{file}: {problem}", inner)
{
    public string File { get; } = file;
}
