using static TorchSharp.torch;

namespace Peft.Core;

/// <summary>
/// CLIP's zero-shot classifier weights: for each class, every template filled with the class name is encoded by
/// the frozen text tower and L2-normalised; the class weight is their mean, normalised again (openai/CLIP notebook,
/// CoOp ZeroshotCLIP/ZeroshotCLIP2, Tip-Adapter <c>clip_classifier</c>).
/// </summary>
public static class TextClassifier
{
    /// <summary>Normalised weights [C, D] (float32, no gradient).</summary>
    public static Tensor Build(IFrozenTextEncoder encoder, ITextTokenizer tokenizer, IReadOnlyList<string> classNames,
        IReadOnlyList<string> templates, int batchSize = 256)
    {
        using var scope = NewDisposeScope();
        var all = nn.functional.normalize(Embeddings(encoder, tokenizer, classNames, templates, batchSize), dim: -1);
        return nn.functional.normalize(all.mean([1]), dim: -1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The text tower's features of every (class, template) prompt, projected but not normalised: [C, T, D] (float32,
    /// no gradient). Methods that start from unnormalised text features (TaskRes's base) use these directly.
    /// </summary>
    public static Tensor Embeddings(IFrozenTextEncoder encoder, ITextTokenizer tokenizer, IReadOnlyList<string> classNames,
        IReadOnlyList<string> templates, int batchSize = 256)
    {
        if (templates.Count == 0) throw new ArgumentException("at least one template is needed");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var prompts = classNames.SelectMany(c => templates.Select(t => PromptTemplates.Fill(t, c))).ToList();
        var features = new List<Tensor>();
        for (int start = 0; start < prompts.Count; start += batchSize)
        {
            var batch = prompts.GetRange(start, Math.Min(batchSize, prompts.Count - start));
            var tokens = tokenizer.TokenizeToTensor(batch, encoder.ContextLength, truncate: true);
            features.Add(encoder.EncodeText(tokens));
        }
        return cat(features, 0).to(ScalarType.Float32).view(classNames.Count, templates.Count, -1).MoveToOuterDisposeScope();
    }
}
