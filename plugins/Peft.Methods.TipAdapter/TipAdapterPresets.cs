using Peft.Core;
using static Peft.Core.CoopDatasetNames;

namespace Peft.Methods.TipAdapter;

/// <summary>
/// The official per-dataset settings of Tip-Adapter and Tip-Adapter-F: gaopengcuhk/Tip-Adapter configs/*.yaml at
/// commit d0e2d6f (every config: init_beta 1, search_step [200, 20], augment_epoch 10, lr 0.001), and the prompt set
/// of datasets/*.py (ImageNet: the 7 selected templates). Also the official selection rules for the as-published
/// protocol (main.py, main_imagenet.py).
/// </summary>
public static class TipAdapterPresets
{
    const string Repo = "gaopengcuhk/Tip-Adapter@d0e2d6f";

    // dataset, config file, init_alpha, search_scale [beta, alpha], train_epoch — each value as in that file.
    static readonly (string Dataset, string File, double InitAlpha, double[] SearchScale, int Epochs)[] Configs =
    [
        (ImageNet, "configs/imagenet.yaml", 1.17, [7, 3], 20),             // + datasets/imagenet.py: 7 templates
        (Caltech101, "configs/caltech101.yaml", 3, [12, 5], 20),
        (OxfordPets, "configs/oxford_pets.yaml", 1.17, [7, 3], 20),
        (StanfordCars, "configs/stanford_cars.yaml", 3, [20, 10], 20),
        (Flowers102, "configs/oxford_flowers.yaml", 10, [50, 50], 20),
        (Food101, "configs/food101.yaml", 1.17, [10, 10], 20),
        (FgvcAircraft, "configs/fgvc.yaml", 5, [30, 30], 20),
        (Sun397, "configs/sun397.yaml", 1.17, [12, 10], 20),
        (Dtd, "configs/dtd.yaml", 2, [13, 13], 20),
        (EuroSat, "configs/eurosat.yaml", 2, [12, 10], 100),                // train_epoch: 100 (the only one that differs)
        (Ucf101, "configs/ucf101.yaml", 3, [7, 3], 20),
    ];

    /// <summary>Tip-Adapter (training-free): init α/β (used when search is off), the search grid and the prompt set.</summary>
    public static IReadOnlyList<OptionPreset> TipAdapter { get; } = Configs.Select(c => OptionPreset.For(c.Dataset, $"{Repo} {c.File}",
        [.. Common(c.Dataset, c.InitAlpha, c.SearchScale)])).ToList();

    /// <summary>Tip-Adapter-F: those of Tip-Adapter plus train_epoch and lr.</summary>
    public static IReadOnlyList<OptionPreset> TipAdapterF { get; } = Configs.Select(c => OptionPreset.For(c.Dataset, $"{Repo} {c.File}",
        [.. Common(c.Dataset, c.InitAlpha, c.SearchScale), ("epochs", c.Epochs), ("learningRate", 0.001)])).ToList();

    static IEnumerable<(string, object)> Common(string dataset, double initAlpha, double[] searchScale) =>
    [
        ("initAlpha", initAlpha), ("initBeta", 1.0), ("searchScale", searchScale), ("searchStep", new[] { 200, 20 }),
        ("augmentViews", 10),
        // datasets/imagenet.py: imagenet_templates (7); the other datasets/*.py: one CoOp-style template
        ("templates", dataset == ImageNet ? "ensemble7" : "dataset"),
    ];

    /// <summary>
    /// As published: main.py searches α/β on the dataset's full validation split (only train is few-shot sampled);
    /// main_imagenet.py searches on the test set (val = test = ImageNet val).
    /// </summary>
    public static IReadOnlyList<OptionPreset> TipAdapterAsPublished { get; } =
    [
        OptionPreset.For("*", $"{Repo} main.py run_tip_adapter: search_hp on val_features (full val split)", ("searchOn", "full-val")),
        OptionPreset.For(ImageNet, $"{Repo} main_imagenet.py run_tip_adapter: search_hp on test_features", ("searchOn", "test")),
    ];

    /// <summary>
    /// As published: main.py keeps the epoch with the best test accuracy, searches α/β on the full validation split
    /// and prints max(best epoch's test accuracy, test accuracy after the search); main_imagenet.py keeps the best-test
    /// epoch and searches α/β on test (its printed result is the search's best, no max).
    /// </summary>
    public static IReadOnlyList<OptionPreset> TipAdapterFAsPublished { get; } =
    [
        OptionPreset.For("*", $"{Repo} main.py run_tip_adapter_F: best test epoch, search_hp on full val, prints max(best_acc, acc)",
            ("select", "best-test"), ("searchOn", "full-val"), ("maxBestFinal", true)),
        OptionPreset.For(ImageNet, $"{Repo} main_imagenet.py run_tip_adapter_F: best test epoch, search_hp on test",
            ("select", "best-test"), ("searchOn", "test"), ("maxBestFinal", false)),
    ];
}
