using Microsoft.Extensions.DependencyInjection;
using Peft.Core;

namespace Peft.Methods.Vpt;

public sealed class VptPlugin : IMethodPlugin
{
    public void Register(IServiceCollection services) =>
        services.AddEncoderMethod<VptMethod, VptOptions>("vpt",
            "VPT: visual prompt tokens inside the image tower, deep by default (Jia et al. 2022; MaPLe's VPT baseline trainers/vpt.py) — encoder tier",
            options => new VptMethod(options), TrainingAugmentation.Dassl); // VPT yaml INPUT.TRANSFORMS: random_resized_crop, random_flip
}
