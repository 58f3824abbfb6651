using Peft.Core;
using Peft.Core.Prompting;
using static TorchSharp.torch;

namespace Peft.Methods.CoCoOp;

/// <summary>
/// CoCoOp's head (cocoop.py CustomCLIP.forward): for each image x, the prompts of every class around ctx + π(x̂) go
/// through the frozen text tower; logits = exp(logit_scale)·cos(x, text features). The text tower runs per image, so
/// classifying costs (images × classes) prompt passes. Other classes (base-to-new, transfer) get the same context and
/// meta-net around their own names, as the official evaluation rebuilds the prompt learner for them.
/// </summary>
sealed class CoCoOpClassifier(PromptLearner learner, MetaNet meta, IFrozenTextEncoder encoder, float logitScale, int promptsPerPass,
    bool ownsMetaNet = true) : IFeatureClassifier, IOpenVocabularyClassifier
{
    /// <summary>A classifier over other class names sharing this one's meta-net (which it does not dispose) and a copy of its context.</summary>
    public IFeatureClassifier? ForClasses(FewShotTask classes) =>
        learner.Ctx.dim() != 2 ? null
            : new CoCoOpClassifier(learner.ForClasses(classes.ClassNames), meta, encoder, logitScale, promptsPerPass, ownsMetaNet: false);

    public long TrainableParameters => learner.Ctx.numel() + meta.Parameters.Sum(p => p.numel());

    public IReadOnlyDictionary<string, Tensor> Weights => new Dictionary<string, Tensor>
    {
        // names of the official state_dict (prompt_learner.ctx, prompt_learner.meta_net.linear1.weight, ...)
        ["ctx"] = learner.Ctx, ["meta_net.linear1.weight"] = meta.W1, ["meta_net.linear1.bias"] = meta.B1,
        ["meta_net.linear2.weight"] = meta.W2, ["meta_net.linear2.bias"] = meta.B2,
    };

    /// <summary>Logits [B, C] with gradients into the context and the meta-net.</summary>
    public Tensor Forward(Tensor imageFeatures)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.normalize(imageFeatures.to(ScalarType.Float32), dim: -1);
        long b = x.shape[0];
        int c = learner.NumClasses;
        var ctx = learner.Ctx.unsqueeze(0) + meta.Forward(x).unsqueeze(1);                  // [B, M, W]
        var prompts = cat(Enumerable.Range(0, (int)b).Select(i => learner.Assemble(0, c, ctx[i])).ToArray(), 0);
        var text = encoder.EncodeTokenEmbeddings(prompts, learner.EotIndex.repeat(b)).to(ScalarType.Float32).view(b, c, -1);
        text = nn.functional.normalize(text, dim: -1);
        return (einsum("be,bce->bc", x, text) * logitScale).MoveToOuterDisposeScope();
    }

    public Tensor Logits(Tensor imageFeatures)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long n = imageFeatures.shape[0];
        int perPass = Math.Max(1, promptsPerPass / learner.NumClasses);
        var parts = new List<Tensor>();
        for (long s = 0; s < n; s += perPass) parts.Add(Forward(imageFeatures.narrow(0, s, Math.Min(perPass, n - s))));
        return (parts.Count == 0 ? zeros(0, learner.NumClasses) : cat(parts, 0)).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        learner.Dispose();
        if (ownsMetaNet) meta.Dispose();
    }
}
