using Microsoft.Extensions.DependencyInjection;
using Peft.Core;

namespace Peft.Methods.ZeroShot;

public sealed class ZeroShotPlugin : IMethodPlugin
{
    public void Register(IServiceCollection services) =>
        services.AddAdaptationMethod<ZeroShotClip, ZeroShotOptions>("zero-shot",
            "Zero-shot CLIP: prompt templates, no training (CoOp ZeroshotCLIP; ensembles as in CLIP / Tip-Adapter)",
            options => new ZeroShotClip(options));
}
