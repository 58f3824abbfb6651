using Peft.Imaging;

namespace Peft.Data.Augmentation;

/// <summary>One training view to make: view <paramref name="ViewIndex"/> of <paramref name="Image"/>, identified by <paramref name="ImageKey"/>.</summary>
/// <param name="ImageKey">Stable identity of the image across runs, e.g. its dataset-relative path; it seeds the view.</param>
public sealed record TrainingViewRequest(string ImageKey, int ViewIndex, DecodedImage Image);
