namespace Peft.Core;

/// <summary>Bad options for a method: the message names the method and the option.</summary>
public sealed class MethodOptionsException(string method, string problem) : ArgumentException($"method '{method}': {problem}")
{
    public string Method { get; } = method;
}
