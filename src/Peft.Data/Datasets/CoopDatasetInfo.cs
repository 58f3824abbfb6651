namespace Peft.Data.Datasets;

/// <summary>
/// What CoOp's <c>datasets/*.py</c> hard-code for one dataset.
/// </summary>
/// <param name="Name">Registry name (CoOp's config file name, e.g. <c>oxford_pets</c>).</param>
/// <param name="DasslName">CoOp's <c>DATASET.NAME</c> / registered class, e.g. <c>OxfordPets</c> (accepted as an alias).</param>
/// <param name="Folder">CoOp's <c>dataset_dir</c> under <c>$DATA</c>, e.g. <c>caltech-101</c>.</param>
/// <param name="ImageDir">CoOp's <c>image_dir</c> relative to the dataset folder; empty for StanfordCars, whose split paths are relative to the dataset folder.</param>
/// <param name="MarkerFile">The file that identifies the dataset folder (the split JSON, <c>variants.txt</c>, <c>classnames.txt</c>).</param>
/// <param name="Template">CoOp's <c>CUSTOM_TEMPLATES</c> entry (trainers/zsclip.py).</param>
public sealed record CoopDatasetInfo(string Name, string DasslName, string Folder, string ImageDir, string MarkerFile, string Template)
{
    /// <summary>The 11 CoOp datasets and the four ImageNet test-only variants, as in CoOp's <c>datasets/</c> and DATASETS.md.</summary>
    public static IReadOnlyList<CoopDatasetInfo> All { get; } =
    [
        new("imagenet", "ImageNet", "imagenet", "images", "classnames.txt", "a photo of a {}."),
        new("caltech101", "Caltech101", "caltech-101", "101_ObjectCategories", "split_zhou_Caltech101.json", "a photo of a {}."),
        new("oxford_pets", "OxfordPets", "oxford_pets", "images", "split_zhou_OxfordPets.json", "a photo of a {}, a type of pet."),
        new("stanford_cars", "StanfordCars", "stanford_cars", "", "split_zhou_StanfordCars.json", "a photo of a {}."),
        new("oxford_flowers", "OxfordFlowers", "oxford_flowers", "jpg", "split_zhou_OxfordFlowers.json", "a photo of a {}, a type of flower."),
        new("food101", "Food101", "food-101", "images", "split_zhou_Food101.json", "a photo of {}, a type of food."),
        new("fgvc_aircraft", "FGVCAircraft", "fgvc_aircraft", "images", "variants.txt", "a photo of a {}, a type of aircraft."),
        new("sun397", "SUN397", "sun397", "SUN397", "split_zhou_SUN397.json", "a photo of a {}."),
        new("dtd", "DescribableTextures", "dtd", "images", "split_zhou_DescribableTextures.json", "{} texture."),
        new("eurosat", "EuroSAT", "eurosat", "2750", "split_zhou_EuroSAT.json", "a centered satellite photo of {}."),
        new("ucf101", "UCF101", "ucf101", "UCF-101-midframes", "split_zhou_UCF101.json", "a photo of a person doing {}."),
        new("imagenetv2", "ImageNetV2", "imagenetv2", "imagenetv2-matched-frequency-format-val", "classnames.txt", "a photo of a {}."),
        new("imagenet_sketch", "ImageNetSketch", "imagenet-sketch", "images", "classnames.txt", "a photo of a {}."),
        new("imagenet_a", "ImageNetA", "imagenet-adversarial", "imagenet-a", "classnames.txt", "a photo of a {}."),
        new("imagenet_r", "ImageNetR", "imagenet-rendition", "imagenet-r", "classnames.txt", "a photo of a {}."),
    ];

    public static CoopDatasetInfo Get(string name) => All.First(i => i.Name == name);

    /// <summary>The dataset folder the user meant: <paramref name="root"/> if it holds <see cref="MarkerFile"/> (and the image folder), else <c>root/Folder</c> if that exists.</summary>
    public string ResolveDatasetDir(string root) =>
        DatasetRules.ResolveDatasetDir(root, Folder, dir => IsDatasetDir(dir));

    /// <summary>
    /// Whether <paramref name="dir"/> holds this dataset's marker file and image folder. ImageNet and ImageNet-Sketch
    /// both have <c>classnames.txt</c> + <c>images/</c>; ImageNet is the one with <c>images/train</c>.
    /// </summary>
    public bool IsDatasetDir(string dir)
    {
        if (!File.Exists(Path.Combine(dir, MarkerFile))) return false;
        if (ImageDir.Length > 0 && !Directory.Exists(Path.Combine(dir, ImageDir))) return false;
        bool hasTrain = Directory.Exists(Path.Combine(dir, "images", "train"));
        return Name switch
        {
            "imagenet" => hasTrain,
            "imagenet_sketch" => !hasTrain,
            _ => true,
        };
    }
}
