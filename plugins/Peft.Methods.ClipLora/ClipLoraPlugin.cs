using Microsoft.Extensions.DependencyInjection;
using Peft.Core;
using Peft.Core.Encoders;

namespace Peft.Methods.ClipLora;

public sealed class ClipLoraPlugin : IMethodPlugin
{
    /// <summary>MaxZanella/CLIP-LoRA main.py's training transform.</summary>
    public static TrainingAugmentation Augmentation { get; } = new("lora", 0.08, 1.0, 0.5,
        "MaxZanella/CLIP-LoRA main.py: RandomResizedCrop(224, scale=(0.08, 1), bicubic) + RandomHorizontalFlip(p=0.5)");

    public void Register(IServiceCollection services) =>
        services.AddEncoderMethod<ClipLoraMethod, ClipLoraOptions>("clip-lora",
            "CLIP-LoRA: rank-2 LoRA on the attention projections inside both towers (MaxZanella/CLIP-LoRA lora.py) — encoder tier",
            options => new ClipLoraMethod(options), Augmentation);
}
