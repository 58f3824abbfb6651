using Peft.Core;
using static Peft.Core.CoopDatasetNames;

namespace Peft.Methods.Gda;

/// <summary>Official per-dataset settings and selection rules of GDA (mrflogs/ICLR24 @560fe21).</summary>
public static class GdaPresets
{
    const string Repo = "mrflogs/ICLR24@560fe21";

    /// <summary>Every configs/few_shots/*.yaml has augment_epoch 10; ImageNet's prompts are datasets/imagenet.py's 7 templates.</summary>
    public static IReadOnlyList<OptionPreset> Gda { get; } =
    [
        OptionPreset.For(ImageNet, $"{Repo} datasets/imagenet.py imagenet_templates (7)", ("templates", "ensemble7")),
    ];

    /// <summary>As published: α is searched on the dataset's full val split; for ImageNet val_features = test_features.</summary>
    public static IReadOnlyList<OptionPreset> AsPublished { get; } =
    [
        OptionPreset.For("*", $"{Repo} main_few_shots.py run: alpha searched on val_features (full val split)", ("searchOn", "full-val")),
        OptionPreset.For(ImageNet, $"{Repo} main_few_shots.py: for imagenet val_features, val_labels = test_features, test_labels", ("searchOn", "test")),
    ];
}
