using Microsoft.Extensions.DependencyInjection;
using Peft.Core;

namespace Peft.Methods.CoOp;

public sealed class CoOpPlugin : IMethodPlugin
{
    /// <summary>
    /// COOP.md: "for ImageNet, we use CoOp/configs/trainers/CoOp/*_ep50.yaml for all settings" — 50 epochs at every shot
    /// count (configs/trainers/CoOp/rn50_ep50.yaml OPTIM.MAX_EPOCH: 50), instead of 50/100/200 by shots.
    /// </summary>
    public static IReadOnlyList<OptionPreset> Presets { get; } =
    [
        OptionPreset.For(CoopDatasetNames.ImageNet, "KaiyangZhou/CoOp@ff61507 COOP.md (ImageNet: *_ep50.yaml for all settings)", ("epochs", 50)),
    ];

    public void Register(IServiceCollection services) =>
        services.AddAdaptationMethod<CoOpMethod, CoOpOptions>("coop",
            "CoOp: learned prompt context vectors in front of the class name, frozen CLIP (KaiyangZhou/CoOp trainers/coop.py)",
            options => new CoOpMethod(options), TrainingAugmentation.Dassl, Presets);
}
