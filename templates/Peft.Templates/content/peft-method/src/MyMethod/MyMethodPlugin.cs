using Microsoft.Extensions.DependencyInjection;
using Peft.Core;

namespace MyMethod;

/// <summary>The entry point the host looks for: registers the method under its name.</summary>
public sealed class MyMethodPlugin : IMethodPlugin
{
    public void Register(IServiceCollection services) =>
        services.AddAdaptationMethod<MyMethodMethod, MyMethodOptions>("my-method",
            "Nearest class mean of normalised training features", o => new MyMethodMethod(o));
}
