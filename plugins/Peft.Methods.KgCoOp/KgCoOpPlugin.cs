using Microsoft.Extensions.DependencyInjection;
using Peft.Core;

namespace Peft.Methods.KgCoOp;

public sealed class KgCoOpPlugin : IMethodPlugin
{
    /// <summary>kgcoop.py CUSTOM_TEMPLATES differs from CoOp's for DescribableTextures only.</summary>
    public static IReadOnlyList<OptionPreset> Presets { get; } =
    [
        OptionPreset.For(CoopDatasetNames.Dtd, "htyao89/KgCoOp@c43ccc3 KgCoOp/trainers/kgcoop.py CUSTOM_TEMPLATES['DescribableTextures']",
            ("handcraftedTemplate", "a photo of a {}, a type of texture.")),
    ];

    public void Register(IServiceCollection services) =>
        services.AddAdaptationMethod<KgCoOp, KgCoOpOptions>("kgcoop",
            "KgCoOp: CoOp's learned context with a regulariser (weight 8) towards the hand-crafted prompt's CLIP text features (Yao et al., CVPR 2023; htyao89/KgCoOp)",
            options => new KgCoOp(options), TrainingAugmentation.Dassl, Presets);
}
