using Microsoft.Extensions.DependencyInjection;
using Peft.Core;
using static Peft.Core.CoopDatasetNames;

namespace Peft.Methods.LpPlusPlus;

public sealed class LpPlusPlusPlugin : IMethodPlugin
{
    const string Repo = "FereshteShakeri/FewShot-CLIP-Strong-Baseline@f81054f";

    /// <summary>main.py train_tranform: RandomResizedCrop(224, scale=(0.5, 1), bicubic) + RandomHorizontalFlip(0.5), as Tip-Adapter's.</summary>
    static readonly TrainingAugmentation Transform = TrainingAugmentation.TipAdapter with
    {
        Source = $"{Repo} main.py train_tranform: RandomResizedCrop(224, scale=(0.5, 1), bicubic) + RandomHorizontalFlip(p=0.5)",
    };

    /// <summary>ImageNet's text embeddings average datasets/imagenet.py's 7 imagenet_templates (main_imagenet.py clip_classifier).</summary>
    static readonly IReadOnlyList<OptionPreset> Presets =
    [
        OptionPreset.For(ImageNet, $"{Repo} datasets/imagenet.py imagenet_templates (7)", ("templates", "ensemble7")),
    ];

    public void Register(IServiceCollection services) =>
        services.AddAdaptationMethod<LpPlusPlusMethod, LpPlusPlusOptions>("lp-plus-plus",   // not "lp++": MLflow metric keys and environment variables allow no "+"
            "LP++: linear probe blended with the text embeddings through class-wise multipliers, full-batch block updates " +
            "with data-driven step sizes and initialisation; best-val epoch (Huang et al., CVPR 2024)",
            options => new LpPlusPlusMethod(options), Transform, Presets);
}
