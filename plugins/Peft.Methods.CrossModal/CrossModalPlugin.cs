using Microsoft.Extensions.DependencyInjection;
using Peft.Core;
using static Peft.Core.CoopDatasetNames;

namespace Peft.Methods.CrossModal;

public sealed class CrossModalPlugin : IMethodPlugin
{
    const string Repo = "linzhiqiu/cross_modal_adaptation@ac9077e";

    /// <summary>linear_probe.sh IMAGE_AUGS flip, IMAGE_VIEWS 1: engine/transforms/default.py 'flip' = Resize + CenterCrop + RandomHorizontalFlip(p=1.0).</summary>
    static readonly TrainingAugmentation Transform = TrainingAugmentation.CenterFlip with
    {
        Source = $"{Repo} linear_probe.sh --image-augmentation flip --image-views 1; engine/transforms/default.py: Resize(224, bicubic) + CenterCrop(224) + RandomHorizontalFlip(p=1.0)",
    };

    /// <summary>engine/templates/hand_crafted.py TIP_ADAPTER_TEMPLATES: ImageNet's 7 templates; the other datasets' single
    /// template equals the dataset's CoOp template.</summary>
    static readonly IReadOnlyList<OptionPreset> Presets =
    [
        OptionPreset.For(ImageNet, $"{Repo} engine/templates/hand_crafted.py imagenet_templates (7, Tip-Adapter's)", ("templates", "ensemble7")),
    ];

    public void Register(IServiceCollection services) =>
        services.AddAdaptationMethod<CrossModalMethod, CrossModalOptions>("cross-modal",
            "Cross-modal linear probe: the class prompts' text features train a linear head alongside the image features " +
            "(half of each batch), AdamW grid over lr × weight decay × batch size, best validation iteration and grid point (Lin et al., CVPR 2023)",
            options => new CrossModalMethod(options), Transform, Presets);
}
