using Peft.Clip.Loading;
using Peft.Core;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Tests.Clip;

/// <summary>The token-embedding path prompt learning relies on (<see cref="IFrozenTextEncoder"/>).</summary>
public class TextEncoderPathTests
{
    [Fact]
    public void EmbeddingPathEqualsEncodeTextAndTruncationIsExact()
    {
        using var scope = NewDisposeScope();
        using var loaded = ClipLoader.Load(FixturePaths.Clip("vit_state_dict.pt"));
        IFrozenTextEncoder encoder = loaded.Model;
        using var fixture = SafeTensorsFile.Read(FixturePaths.Clip("vit_state_dict.expected.safetensors"));
        var tokens = fixture["tokens"];
        var eot = tokens.argmax(-1);

        var viaEmbeddings = encoder.EncodeTokenEmbeddings(encoder.EmbedTokens(tokens), eot);
        Assert.True(viaEmbeddings.allclose(encoder.EncodeText(tokens), 0, 1e-6));

        // The causal mask means positions after the last end-of-text token never influence it.
        long keep = eot.max().item<long>() + 1;
        var truncated = encoder.EncodeTokenEmbeddings(encoder.EmbedTokens(tokens.narrow(1, 0, keep)), eot);
        Assert.True(truncated.allclose(viaEmbeddings, 1e-5, 1e-6), $"truncated to {keep} of {tokens.shape[1]}");
        Assert.True(keep < tokens.shape[1] || tokens.shape[1] == keep);
    }

    [Fact]
    public void GradientsReachTheEmbeddingsButNotTheFrozenWeights()
    {
        using var scope = NewDisposeScope();
        using var loaded = ClipLoader.Load(FixturePaths.Clip("vit_state_dict.pt"));
        var model = loaded.Model;
        var tokens = tensor(new long[] { 998, 5, 6, 999, 0, 0 }).view(1, 6);
        var context = model.EmbedTokens(tokens).detach().requires_grad_(true);
        var features = model.EncodeTokenEmbeddings(context, tensor(new long[] { 3 }));
        features.pow(2).sum().backward();
        Assert.NotNull(context.grad);
        Assert.True(context.grad!.abs().sum().item<float>() > 0);
        // Positions after the pooled token get no gradient (causal mask).
        Assert.Equal(0f, context.grad[0, 4].abs().sum().item<float>());
        Assert.All(model.parameters(), p => Assert.False(p.requires_grad));
    }

    [Fact]
    public void BFloat16KeepsLayerNormsInFloat32()
    {
        using var loaded = ClipLoader.Load(FixturePaths.Clip("vit_state_dict.pt"), new ClipLoadOptions { ComputeType = ScalarType.BFloat16 });
        var dtypes = loaded.Model.named_parameters().ToDictionary(p => p.name, p => p.parameter.dtype);
        Assert.Equal(ScalarType.Float32, dtypes["ln_final.weight"]);
        Assert.Equal(ScalarType.Float32, dtypes["visual.transformer.resblocks.0.ln_1.bias"]);
        Assert.Equal(ScalarType.BFloat16, dtypes["visual.transformer.resblocks.0.attn.in_proj_weight"]);
        Assert.Equal(ScalarType.BFloat16, dtypes["text_projection"]);
    }
}
