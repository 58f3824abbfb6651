using System.Text.Json;

namespace Peft.Core;

/// <summary>Prompt-template sets used by zero-shot CLIP and the methods that start from it.</summary>
public static class PromptTemplates
{
    /// <summary>
    /// The 7 templates chosen by forward selection over CLIP's 80 for ImageNet (openai/CLIP
    /// notebooks/Prompt_Engineering_for_ImageNet.ipynb; used by Tip-Adapter and CoOp's ZeroshotCLIP2).
    /// </summary>
    public static IReadOnlyList<string> ImageNetSelected7 { get; } =
    [
        "itap of a {}.", "a bad photo of the {}.", "a origami {}.", "a photo of the large {}.",
        "a {} in a video game.", "art of the {}.", "a photo of the small {}.",
    ];

    /// <summary>CLIP's 80 ImageNet templates (same notebook), shipped in data/clip/imagenet.json.</summary>
    public static IReadOnlyList<string> ImageNet80 => LazyImageNet80.Value;

    static readonly Lazy<IReadOnlyList<string>> LazyImageNet80 = new(() =>
    {
        using var stream = typeof(PromptTemplates).Assembly.GetManifestResourceStream("imagenet.json")
                           ?? throw new InvalidOperationException("imagenet.json is not embedded in Peft.Core");
        using var doc = JsonDocument.Parse(stream);
        return doc.RootElement.GetProperty("imagenet_templates_80").EnumerateArray().Select(e => e.GetString()!).ToList();
    });

    /// <summary>
    /// Names of template sets methods accept: <c>dataset</c> (the dataset's own, CoOp's CUSTOM_TEMPLATES), <c>ensemble7</c>,
    /// <c>dataset+ensemble7</c> (CoOp ZeroshotCLIP2), <c>ensemble80</c>.
    /// </summary>
    public static IReadOnlyList<string> SetNames { get; } = ["dataset", "ensemble7", "dataset+ensemble7", "ensemble80"];

    /// <summary>The templates of a named set (<see cref="SetNames"/>) for a task whose own templates are <paramref name="dataset"/>.</summary>
    public static IReadOnlyList<string> Resolve(string set, IReadOnlyList<string> dataset) => set switch
    {
        "dataset" => dataset,
        "ensemble7" => ImageNetSelected7,
        "dataset+ensemble7" => [.. ImageNetSelected7, .. dataset],
        "ensemble80" => ImageNet80,
        _ => throw new ArgumentException($"unknown template set '{set}'; valid: {string.Join(", ", SetNames)}"),
    };

    /// <summary>Fills a template's <c>{}</c> with a class name.</summary>
    public static string Fill(string template, string className) => template.Replace("{}", className);
}
