namespace Peft.Core.Encoders;

/// <summary>One of CLIP's two towers.</summary>
public enum Tower { Image, Text }

/// <summary>
/// A linear map of a transformer block. The attention projections carry CLIP-LoRA's letters (q, k, v, o); the MLP's
/// two maps are open_clip's <c>c_fc</c> (width → 4·width) and <c>c_proj</c> (4·width → width).
/// </summary>
public enum LinearKind { Query, Key, Value, Output, MlpIn, MlpOut }

/// <summary>A LayerNorm: a block's two (<c>ln_1</c> before attention, <c>ln_2</c> before the MLP) or a tower's own
/// (<c>ln_pre</c> of the image tower; <c>ln_post</c> of the image tower and <c>ln_final</c> of the text tower).</summary>
public enum NormKind { Attention, Mlp, Pre, Post }

/// <summary>
/// A frozen linear map y = W x + b inside a tower where a method may add a trainable term: y = W x + b + Δ(x).
/// <see cref="Block"/> counts from 0 at the tower's input.
/// </summary>
public sealed record LinearSite(Tower Tower, int Block, LinearKind Kind, int InFeatures, int OutFeatures)
{
    public override string ToString() => $"{Tower.ToString().ToLowerInvariant()}.{Block}.{Kind switch
    {
        LinearKind.Query => "attn.q", LinearKind.Key => "attn.k", LinearKind.Value => "attn.v", LinearKind.Output => "attn.o",
        LinearKind.MlpIn => "mlp.c_fc", _ => "mlp.c_proj",
    }}";
}

/// <summary>A frozen LayerNorm (γ, β of <see cref="Width"/>) whose affine parameters a method may shift: γ + Δγ, β + Δβ.
/// <see cref="Block"/> is -1 for a tower's own norms (<see cref="NormKind.Pre"/>, <see cref="NormKind.Post"/>).</summary>
public sealed record NormSite(Tower Tower, int Block, NormKind Kind, int Width)
{
    public override string ToString() => $"{Tower.ToString().ToLowerInvariant()}.{Kind switch
    {
        NormKind.Attention => $"{Block}.ln_1", NormKind.Mlp => $"{Block}.ln_2", NormKind.Pre => "ln_pre",
        _ => Tower == Tower.Image ? "ln_post" : "ln_final",
    }}";
}

/// <summary>
/// A point where a method may transform the token sequence [N, L, Width]: the input of block <see cref="Block"/>, or for
/// the image tower Block = -1, the embeddings after the positional embedding and before <c>ln_pre</c> (where VPT and
/// MaPLe insert their first visual prompts). The image tower pools token 0 (the class token), so prompts go after it;
/// the text tower pools at the end-of-text position of the ids, so a text transform must keep the sequence length.
/// </summary>
public sealed record TokenSite(Tower Tower, int Block, int Width)
{
    public override string ToString() => Block < 0 ? $"{Tower.ToString().ToLowerInvariant()}.embeddings" : $"{Tower.ToString().ToLowerInvariant()}.{Block}.input";
}
