using Microsoft.Extensions.DependencyInjection;

namespace Peft.Core;

/// <summary>
/// The entry point of a plugin assembly: the host finds every public, parameterless implementation in the
/// assemblies it loads and lets it register its methods (<see cref="MethodRegistration.AddAdaptationMethod{TMethod,TOptions}"/>).
/// </summary>
public interface IMethodPlugin
{
    void Register(IServiceCollection services);
}
