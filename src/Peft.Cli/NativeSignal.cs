using System.Runtime.InteropServices;

namespace Peft.Cli;

/// <summary>Sends a signal to this process, as a native fault would (PEFT_RAISE_SIGNAL; Linux and macOS only).</summary>
static class NativeSignal
{
    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "signal")]
    private static extern IntPtr Signal(int signal, IntPtr handler);

    public static void RaiseOnSelf(int signal)
    {
        if (OperatingSystem.IsWindows()) return;
        // The .NET runtime handles SIGFPE/SIGSEGV itself (for managed faults) and would survive a signal sent from
        // outside; a fault inside native code ends up in the default action, so that is what is restored here.
        Signal(signal, IntPtr.Zero); // SIG_DFL
        Kill(Environment.ProcessId, signal);
        Thread.Sleep(Timeout.Infinite); // the signal ends the process
    }
}
