using Microsoft.Extensions.Configuration;

namespace Peft.Core;

/// <summary>A registered method: its name, what it does, its options type, and how to build it from configuration.</summary>
public sealed record MethodDescriptor(string Name, string Description, Type OptionsType, Func<IConfiguration?, IAdaptationMethod> Create)
{
    /// <summary>The options with their published defaults (for listings).</summary>
    public object DefaultOptions() => Activator.CreateInstance(OptionsType)!;
}
