using System.Text;
using Peft.IO;

namespace Peft.Reporting;

/// <summary>Writes a report file atomically (<see cref="AtomicFile.Replace"/>); a failure names the report file.</summary>
static class ReportFileWriter
{
    static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public static void WriteText(string path, string text) => WriteBytes(path, Utf8.GetBytes(text));

    public static void WriteBytes(string path, byte[] bytes)
    {
        try
        {
            AtomicFile.Replace(path, bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"Could not write the report file {path}: {e.Message}", e);
        }
    }
}
