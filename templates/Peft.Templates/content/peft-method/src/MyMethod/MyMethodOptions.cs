using Peft.Core;

namespace MyMethod;

/// <summary>Options: an immutable record whose defaults are the method's published settings.</summary>
public sealed record MyMethodOptions : IMethodOptions
{
    /// <summary>Temperature of the cosine logits (CLIP's 100).</summary>
    public double Scale { get; init; } = 100;

    /// <summary>One message per problem, naming the option; the host stops the run before any work.</summary>
    public IEnumerable<string> Validate()
    {
        if (Scale <= 0) yield return $"scale must be positive, got {Scale}";
    }
}
