namespace Peft.Data.Datasets;

/// <summary>
/// One labelled image, as in CoOp's <c>split_zhou_*.json</c> triples <c>[relative_path, label, classname]</c>.
/// <see cref="ImagePath"/> is relative to the dataset's <see cref="ImageDataset.ImageRoot"/>, with '/' separators.
/// </summary>
public sealed record DatasetItem(string ImagePath, int Label, string ClassName);
