namespace Peft.Data.Datasets;

/// <summary>A dataset or split file that cannot be used; the message names the file (and entry) at fault.</summary>
public sealed class DatasetFormatException(string file, string problem, Exception? inner = null)
    : Exception($"{file}: {problem}", inner)
{
    public string File { get; } = file;
}
