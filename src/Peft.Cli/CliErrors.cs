using Peft.Imaging;
using Peft.Clip.Model;
using Peft.Tensors;

namespace Peft.Cli;

/// <summary>Turns expected failures (bad files, bad options) into one readable line and exit code 1 (PEFT_DEBUG=1 shows the stack).</summary>
static class CliErrors
{
    public static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (IsUserError(e) && Environment.GetEnvironmentVariable("PEFT_DEBUG") is null)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled");
            return 130;
        }
    }

    static bool IsUserError(Exception e) => e is TensorFileException or ImageDecodeException or ArgumentException
        or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or UnauthorizedAccessException
        or IOException or HttpRequestException or InvalidOperationException or Peft.Core.Tracking.TrackingException or Peft.Reporting.ReportException;
}
