namespace Peft.Core;

/// <summary>A method's options record: immutable, defaults = the published settings, validated before any work starts.</summary>
public interface IMethodOptions
{
    /// <summary>Problems with the values, each naming the option (e.g. "alpha must be in [0, 1], got 1.5"); empty when valid.</summary>
    IEnumerable<string> Validate();

    /// <summary>
    /// Whether these values select on data a strict few-shot protocol withholds (<see cref="AdaptationContext.Oracle"/>):
    /// the host accepts them only under the <c>as-published</c> protocol.
    /// </summary>
    bool UsesOracle => false;
}
