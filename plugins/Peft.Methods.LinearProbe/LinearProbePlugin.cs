using Microsoft.Extensions.DependencyInjection;
using Peft.Core;

namespace Peft.Methods.LinearProbe;

public sealed class LinearProbePlugin : IMethodPlugin
{
    public void Register(IServiceCollection services) =>
        services.AddAdaptationMethod<LinearProbe, LinearProbeOptions>("linear-probe",
            "Linear probe (CLIP paper protocol, CoOp lpclip): L2 multinomial logistic regression by L-BFGS on unnormalised features, C searched on validation",
            options => new LinearProbe(options));
}
