namespace Peft.Core;

/// <summary>
/// Dataset type names of the 11 CoOp datasets (the host's dataset registry names, CoOp's configs/datasets/*.yaml
/// names), for presets in plugins, which cannot reference the data layer.
/// </summary>
public static class CoopDatasetNames
{
    public const string ImageNet = "imagenet";
    public const string Caltech101 = "caltech101";
    public const string OxfordPets = "oxford_pets";
    public const string StanfordCars = "stanford_cars";
    public const string Flowers102 = "oxford_flowers";
    public const string Food101 = "food101";
    public const string FgvcAircraft = "fgvc_aircraft";
    public const string Sun397 = "sun397";
    public const string Dtd = "dtd";
    public const string EuroSat = "eurosat";
    public const string Ucf101 = "ucf101";

    public static IReadOnlyList<string> All { get; } =
        [ImageNet, Caltech101, OxfordPets, StanfordCars, Flowers102, Food101, FgvcAircraft, Sun397, Dtd, EuroSat, Ucf101];
}
