namespace Peft.Host;

/// <summary>
/// How the user invokes this program, for hints that print a command to run next: the checkout's wrapper script sets
/// <c>PEFT_COMMAND</c> to the path it was called by (<c>./peft</c>); the .NET tool (and anything else) is <c>peft</c> on
/// the PATH.
/// </summary>
public static class PeftCommand
{
    public const string Variable = "PEFT_COMMAND";

    public static string Name => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } name ? name : "peft";
}
