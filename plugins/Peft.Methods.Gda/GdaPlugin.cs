using Microsoft.Extensions.DependencyInjection;
using Peft.Core;

namespace Peft.Methods.Gda;

public sealed class GdaPlugin : IMethodPlugin
{
    /// <summary>main_few_shots.py train_tranform: RandomResizedCrop(224, scale=(0.5, 1), bicubic) + RandomHorizontalFlip(0.5), as Tip-Adapter's.</summary>
    static readonly TrainingAugmentation Transform = TrainingAugmentation.TipAdapter with
    {
        Source = "mrflogs/ICLR24@560fe21 main_few_shots.py train_tranform: RandomResizedCrop(224, scale=(0.5, 1), bicubic) + RandomHorizontalFlip(p=0.5)",
    };

    public void Register(IServiceCollection services) =>
        services.AddAdaptationMethod<Gda, GdaOptions>("gda",
            "GDA: Gaussian discriminant analysis (class means, shared covariance) on the few-shot features, blended with zero-shot CLIP; alpha searched on val (Wang et al., ICLR 2024)",
            options => new Gda(options), Transform, GdaPresets.Gda, GdaPresets.AsPublished);
}
