using System.Reflection;

namespace Peft.Host.Experiments;

/// <summary>
/// The version of the code that produced a result (tag <c>peft.code_version</c>): the assembly's informational
/// version, which the .NET SDK suffixes with the git commit (<c>1.0.0+3f2a…</c>) when built from a repository.
/// </summary>
public static class CodeVersion
{
    public static string Current { get; } =
        typeof(CodeVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(CodeVersion).Assembly.GetName().Version?.ToString() ?? "unknown";
}
