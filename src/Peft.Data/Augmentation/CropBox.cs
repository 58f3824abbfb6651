namespace Peft.Data.Augmentation;

/// <summary>A crop rectangle in pixels, in torchvision's <c>get_params</c> order (top, left, height, width).</summary>
public readonly record struct CropBox(int Top, int Left, int Height, int Width)
{
    public override string ToString() => $"(top {Top}, left {Left}, {Width}x{Height})";
}
