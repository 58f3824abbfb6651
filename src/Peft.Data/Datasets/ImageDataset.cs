namespace Peft.Data.Datasets;

/// <summary>
/// A dataset as read from disk: class names in label order, the default prompt template(s), and the full
/// train / validation / test lists before any few-shot sampling. Test-only sets (ImageNet-V2, -Sketch, ...) have
/// empty train and validation lists.
/// </summary>
public sealed record ImageDataset
{
    /// <summary>Registry name, e.g. <c>oxford_pets</c>, <c>imagefolder</c>; for <c>coop_layout</c> the <c>name</c> in its <c>dataset.json</c>.</summary>
    public required string Name { get; init; }

    /// <summary>
    /// The dataset's own folder (absolute). Users may give either CoOp's <c>$DATA</c> parent or this folder; when the
    /// given folder holds the dataset's CoOp subfolder (<c>oxford_pets/</c>, <c>caltech-101/</c>, ...) the reader
    /// descends into it, so this is always the folder holding the split file (CoOp's <c>dataset_dir</c>).
    /// </summary>
    public required string Root { get; init; }

    /// <summary>Absolute folder that every <see cref="DatasetItem.ImagePath"/> is relative to.</summary>
    public required string ImageRoot { get; init; }

    /// <summary>Class names indexed by label (CoOp's <c>lab2cname</c>, underscores already turned into spaces).</summary>
    public required IReadOnlyList<string> ClassNames { get; init; }

    /// <summary>Zero-shot prompt template(s) with one <c>{}</c> for the class name (CoOp's CUSTOM_TEMPLATES by default).</summary>
    public required IReadOnlyList<string> Templates { get; init; }

    public required IReadOnlyList<DatasetItem> Train { get; init; }
    public required IReadOnlyList<DatasetItem> Val { get; init; }
    public required IReadOnlyList<DatasetItem> Test { get; init; }

    /// <summary>
    /// Stable class identifiers by label where the layout has them (ImageNet and its variants: the WordNet ids of the
    /// folders), else null. Shift targets map to their source by these when both have them, as the official code maps
    /// ImageNet-A/R/Sketch/V2 to ImageNet through the folders' wnids; by class name otherwise.
    /// </summary>
    public IReadOnlyList<string>? ClassIds { get; init; }

    public bool IsTestOnly => Train.Count == 0 && Val.Count == 0;

    /// <summary>The absolute path of an item's image.</summary>
    public string PathOf(DatasetItem item) => Path.Combine(ImageRoot, item.ImagePath);
}
