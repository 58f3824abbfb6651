using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>
/// The operations of one ViT-B/16 transformer block (width 768, 12 heads, 197 tokens) at batch <c>batch</c>, timed one by
/// one as our <c>ResidualAttentionBlock</c> runs them (layer norm in fp32, fused q/k/v projection, scaled-dot-product
/// attention, QuickGELU as x·σ(1.702x)), in fp32 and bf16; <c>tools/reference/bench_encoder_ops.py</c> times PyTorch
/// 1.13's ops for the same block (its nn.MultiheadAttention computes attention with bmm + softmax) and
/// <c>tools/bench/encoder-ops.sh</c> prints both: where the encoder's time goes and how far each op is from the other.
/// Each op: the fastest of 5 timed runs of enough repeats for ≥ 50 ms. Last line JSON (milliseconds per op).
/// </summary>
static class EncoderOps
{
    const int Width = 768, Heads = 12, Tokens = 197;

    public static int Run(int batch, int threads)
    {
        set_num_threads(threads);
        var results = new Dictionary<string, Dictionary<string, double>>();
        foreach (var type in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            using var scope = NewDisposeScope();
            var g = new Generator(1);
            Tensor R(params long[] shape) => (randn(shape, generator: g) * 0.02).to(type);
            var x = randn([batch, Tokens, Width], generator: g).to(type);
            var (lnW, lnB) = (ones(Width), zeros(Width));   // fp32, as our ClipLayerNorm computes
            var (wQkv, bQkv, wOut, bOut) = (R(3 * Width, Width), R(3 * Width), R(Width, Width), R(Width));
            var (wFc, bFc, wProj, bProj) = (R(4 * Width, Width), R(4 * Width), R(Width, 4 * Width), R(Width));
            var hidden = randn([batch, Tokens, 4 * Width], generator: g).to(type);
            var packed = randn([batch, Tokens, 3 * Width], generator: g).to(type);
            var gelu = 1.702.ToScalar();
            var ops = new (string Name, Func<Tensor> Op)[]
            {
                ("layer_norm", () => nn.functional.layer_norm(x.to(ScalarType.Float32), [Width], lnW, lnB, 1e-5).to(type)),
                ("qkv 768->2304", () => nn.functional.linear(x, wQkv, bQkv)),
                ("attention", () =>   // from the packed projection to the merged heads, as ClipAttention.forward
                {
                    using var s = NewDisposeScope();
                    var qkv = packed.view(batch, Tokens, 3, Heads, Width / Heads).permute(2, 0, 3, 1, 4);
                    var attended = nn.functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2]);
                    return attended.transpose(1, 2).reshape(batch, Tokens, Width).MoveToOuterDisposeScope();
                }),
                ("out_proj 768->768", () => nn.functional.linear(x, wOut, bOut)),
                ("c_fc 768->3072", () => nn.functional.linear(x, wFc, bFc)),
                ("quick_gelu", () => hidden.mul(sigmoid(hidden.mul(gelu)))),
                ("c_proj 3072->768", () => nn.functional.linear(hidden, wProj, bProj)),
                ("residual add", () => x.add(x)),
            };
            var times = new Dictionary<string, double>();
            foreach (var (name, op) in ops) times[name] = 1000 * Timing.BestSeconds(op);
            results[type == ScalarType.Float32 ? "fp32" : "bf16"] = times;
        }
        Console.WriteLine(JsonSerializer.Serialize(new { side = "ours", threads = get_num_threads(), batch, ms = results }));
        return 0;
    }
}
