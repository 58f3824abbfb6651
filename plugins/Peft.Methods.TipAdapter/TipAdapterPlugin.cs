using Microsoft.Extensions.DependencyInjection;
using Peft.Core;

namespace Peft.Methods.TipAdapter;

public sealed class TipAdapterPlugin : IMethodPlugin
{
    public void Register(IServiceCollection services)
    {
        services.AddAdaptationMethod<TipAdapter, TipAdapterOptions>("tip-adapter",
            "Tip-Adapter: training-free key-value cache of the few-shot features added to zero-shot CLIP; alpha/beta searched on val (Zhang et al., ECCV 2022)",
            options => new TipAdapter(options), TrainingAugmentation.TipAdapter,
            TipAdapterPresets.TipAdapter, TipAdapterPresets.TipAdapterAsPublished);
        services.AddAdaptationMethod<TipAdapterF, TipAdapterFOptions>("tip-adapter-f",
            "Tip-Adapter-F: Tip-Adapter with the cache keys fine-tuned (AdamW, cosine schedule), alpha/beta re-searched on val (Zhang et al., ECCV 2022)",
            options => new TipAdapterF(options), TrainingAugmentation.TipAdapter,
            TipAdapterPresets.TipAdapterF, TipAdapterPresets.TipAdapterFAsPublished);
    }
}
