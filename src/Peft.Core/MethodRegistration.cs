using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Peft.Core;

/// <summary>How a plugin registers its method (Hugging Face PEFT-style: a config type plus a registry entry).</summary>
public static class MethodRegistration
{
    /// <summary>
    /// Registers <typeparamref name="TMethod"/> under <paramref name="name"/>. Its options are bound from the method's
    /// configuration section (unknown keys are an error naming them and listing the valid ones) and validated before
    /// the method is constructed with them.
    /// </summary>
    public static IServiceCollection AddAdaptationMethod<TMethod, TOptions>(this IServiceCollection services, string name,
        string description, Func<TOptions, TMethod> create)
        where TMethod : IAdaptationMethod
        where TOptions : class, IMethodOptions, new()
    {
        services.AddSingleton(new MethodDescriptor(name, description, typeof(TOptions),
            section => create(MethodOptionsBinder.Bind<TOptions>(name, section))));
        return services;
    }
}
