using Microsoft.Extensions.DependencyInjection;
using Peft.Core;

namespace Peft.Methods.CoOp;

public sealed class CoOpPlugin : IMethodPlugin
{
    public void Register(IServiceCollection services) =>
        services.AddAdaptationMethod<CoOpMethod, CoOpOptions>("coop",
            "CoOp: learned prompt context vectors in front of the class name, frozen CLIP (KaiyangZhou/CoOp trainers/coop.py)",
            options => new CoOpMethod(options));
}
