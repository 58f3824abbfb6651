using Peft.Core;
using static Peft.Core.CoopDatasetNames;

namespace Peft.Methods.TaskRes;

/// <summary>Official per-dataset settings of TaskRes's regular-base runs (geekyutao/TaskRes @5195359 train_regular.sh).</summary>
public static class TaskResPresets
{
    const string Repo = "geekyutao/TaskRes@5195359";

    public static IReadOnlyList<OptionPreset> TaskRes { get; } =
    [
        OptionPreset.For(Flowers102, $"{Repo} train_regular.sh: oxford_flowers scale 1.0", ("scale", 1.0)),
        // adam_lr2e-4 configs; _get_base_text_features: IMAGENET_TEMPLATES_SELECT (7) + CUSTOM_TEMPLATES["ImageNet"]
        OptionPreset.For(ImageNet, $"{Repo} train_regular.sh: imagenet adam_lr2e-4_B256_ep*; trainers/taskres.py: 7 selected templates + 'a photo of a {{}}.'",
            ("lr", 2e-4), ("templates", "dataset+ensemble7")),
    ];
}
