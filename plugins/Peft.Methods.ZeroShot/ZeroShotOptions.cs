using Peft.Core;

namespace Peft.Methods.ZeroShot;

/// <summary>Options of zero-shot CLIP.</summary>
public sealed record ZeroShotOptions : IMethodOptions
{
    /// <summary>
    /// Which prompts: <c>dataset</c> = the dataset's own template (CoOp trainers/zsclip.py ZeroshotCLIP, the default);
    /// <c>ensemble7</c> = CLIP's 7 selected ImageNet templates (Tip-Adapter); <c>dataset+ensemble7</c> = both
    /// (CoOp ZeroshotCLIP2); <c>ensemble80</c> = all 80 CLIP ImageNet templates.
    /// </summary>
    public string Templates { get; init; } = "dataset";

    public IEnumerable<string> Validate()
    {
        if (!PromptTemplates.SetNames.Contains(Templates))
            yield return $"templates must be one of {string.Join(", ", PromptTemplates.SetNames)}, got '{Templates}'";
    }
}
