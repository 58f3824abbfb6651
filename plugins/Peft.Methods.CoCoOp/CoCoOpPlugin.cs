using Microsoft.Extensions.DependencyInjection;
using Peft.Core;

namespace Peft.Methods.CoCoOp;

public sealed class CoCoOpPlugin : IMethodPlugin
{
    public void Register(IServiceCollection services) =>
        services.AddAdaptationMethod<CoCoOp, CoCoOpOptions>("cocoop",
            "CoCoOp: CoOp's context shifted per image by a small meta-net, batch 1, 10 epochs; a text-tower pass over all classes per image, in training and when classifying (Zhou et al., CVPR 2022; KaiyangZhou/CoOp trainers/cocoop.py)",
            options => new CoCoOp(options), TrainingAugmentation.Dassl);
}
