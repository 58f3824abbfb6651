using Microsoft.Extensions.DependencyInjection;
using Peft.Core;

namespace Peft.Methods.ClipAdapter;

public sealed class ClipAdapterPlugin : IMethodPlugin
{
    public void Register(IServiceCollection services) =>
        services.AddAdaptationMethod<ClipAdapterMethod, ClipAdapterOptions>("clip-adapter",
            "CLIP-Adapter: bias-free bottleneck adapter (ReLU after both layers) blended with the frozen feature, " +
            "trained with CoOp's SGD schedule on cached augmented views (gaopengcuhk/CLIP-Adapter clip_adapter.py)",
            options => new ClipAdapterMethod(options),
            // clip_adapter.py is a Dassl trainer run with CoOp's configs (README: follow CoOp's command): Dassl's transforms
            TrainingAugmentation.Dassl);
}
