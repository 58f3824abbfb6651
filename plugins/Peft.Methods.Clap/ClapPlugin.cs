using Microsoft.Extensions.DependencyInjection;
using Peft.Core;

namespace Peft.Methods.Clap;

public sealed class ClapPlugin : IMethodPlugin
{
    /// <summary>configs/trainers/SGD_lr1e-1_B256_ep300.yaml INPUT.TRANSFORMS: random_resized_crop, random_flip (Dassl's scale 0.08–1).</summary>
    static readonly TrainingAugmentation Transform = TrainingAugmentation.Dassl with
    {
        Source = "jusiro/CLAP@dbdf409 configs/trainers/SGD_lr1e-1_B256_ep300.yaml: random_resized_crop + random_flip, bicubic; Dassl INPUT.RRCROP_SCALE = (0.08, 1.0)",
    };

    public void Register(IServiceCollection services) =>
        services.AddAdaptationMethod<Clap, ClapOptions>("clap",
            "CLAP: zero-shot-initialised linear probe with a class-adaptive penalty towards the zero-shot prototypes, SGD on pooled augmented views, no validation (Silva-Rodríguez et al., CVPR 2024; jusiro/CLAP)",
            options => new Clap(options), Transform, ClapPresets.Clap);
}
