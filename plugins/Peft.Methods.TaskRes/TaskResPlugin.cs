using Microsoft.Extensions.DependencyInjection;
using Peft.Core;

namespace Peft.Methods.TaskRes;

public sealed class TaskResPlugin : IMethodPlugin
{
    public void Register(IServiceCollection services) =>
        services.AddAdaptationMethod<TaskRes, TaskResOptions>("taskres",
            "TaskRes: a learned residual on the zero-shot text classifier, t + alpha·x, trained with Adam on cached augmented views (Yu et al., CVPR 2023; geekyutao/TaskRes)",
            options => new TaskRes(options),
            // a Dassl trainer; its configs' INPUT.TRANSFORMS: random_resized_crop, random_flip, normalize
            TrainingAugmentation.Dassl, TaskResPresets.TaskRes);
}
