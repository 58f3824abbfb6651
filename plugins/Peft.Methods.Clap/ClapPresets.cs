using Peft.Core;
using static Peft.Core.CoopDatasetNames;

namespace Peft.Methods.Clap;

/// <summary>Official per-dataset settings of CLAP (jusiro/CLAP @dbdf409): every dataset runs SGD_lr1e-1_B256_ep300; only
/// ImageNet's prototypes differ.</summary>
public static class ClapPresets
{
    const string Repo = "jusiro/CLAP@dbdf409";

    public static IReadOnlyList<OptionPreset> Clap { get; } =
    [
        // _get_base_text_features: IMAGENET_TEMPLATES_SELECT (7) + CUSTOM_TEMPLATES["ImageNet"], unnormalised features averaged
        OptionPreset.For(ImageNet, $"{Repo} trainers/adapters.py _get_base_text_features: 7 selected templates + 'a photo of a {{}}.'",
            ("templates", "dataset+ensemble7")),
    ];
}
