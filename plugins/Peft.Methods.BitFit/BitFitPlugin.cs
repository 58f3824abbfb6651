using Microsoft.Extensions.DependencyInjection;
using Peft.Core;

namespace Peft.Methods.BitFit;

public sealed class BitFitPlugin : IMethodPlugin
{
    /// <summary>2SFS's training transform (datasets/__init__.py <c>build_dataloaders</c>, as CLIP-LoRA's main.py).</summary>
    public static TrainingAugmentation Augmentation { get; } = new("2sfs", 0.08, 1.0, 0.5,
        "KilianLP/CoOpLoraSquared- (2SFS) datasets/__init__.py build_dataloaders: RandomResizedCrop(224, scale=(0.08, 1), bicubic) + RandomHorizontalFlip(p=0.5)");

    public void Register(IServiceCollection services) =>
        services.AddEncoderMethod<BitFitMethod, BitFitOptions>("bitfit",
            "BitFit: the bias terms inside both towers (Ben Zaken et al. 2022), trained as 2SFS's first stage (Farina et al. 2025) — encoder tier",
            options => new BitFitMethod(options), Augmentation);
}
