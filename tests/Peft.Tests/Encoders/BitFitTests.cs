using Peft.Clip.Loading;
using Peft.Core;
using Peft.Core.Encoders;
using Peft.Core.Optimization;
using Peft.Host.Experiments;
using Peft.Host.Plugins;
using Peft.Methods.BitFit;
using Peft.Tests.Clip;
using Peft.Tests.Experiments;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Tests.Encoders;

/// <summary>BitFit's bias shifts: the same towers as a checkpoint with those biases changed, decay on the bias itself, and a run.</summary>
public sealed class BitFitTests(RunnerWorld world) : TempDirectory("peft-bitfit-"), IClassFixture<RunnerWorld>
{
    static double RelativeError(Tensor a, Tensor b) =>
        a.sub(b).abs().max().item<float>() / Math.Max(b.abs().max().item<float>(), 1e-30f);

    [Fact]
    public void ShiftedBiasesAndNormsGiveTheTowersOfACheckpointWithThoseValuesChanged()
    {
        using var scope = NewDisposeScope();
        using var adapted = ClipLoader.Load(FixturePaths.Clip("vit_state_dict.pt"));
        using var edited = ClipLoader.Load(FixturePaths.Clip("vit_state_dict.pt"));
        using var fixture = SafeTensorsFile.Read(FixturePaths.Clip("vit_state_dict.expected.safetensors"));
        using var shifts = new BitFitShifts(adapted.Model, new BitFitOptions { Norms = true });
        var g = new Generator(11);
        var state = edited.Model.state_dict();
        using (no_grad())
        {
            foreach (var (name, p, _) in shifts.Parameters)
            {
                p.normal_(0, 0.05, g);
                // The same shift written into the second model's own tensors, by OpenAI key.
                Target(state, name).add_(p);
            }
        }
        Tensor image, text;
        using (adapted.Model.Apply(shifts.Adaptation))
        {
            image = adapted.Model.EncodeImage(fixture["images"]);
            text = adapted.Model.EncodeText(fixture["tokens"]);
        }
        Assert.True(RelativeError(image, edited.Model.EncodeImage(fixture["images"])) < 1e-5);
        Assert.True(RelativeError(text, edited.Model.EncodeText(fixture["tokens"])) < 1e-5);
        // Every bias of both towers: 2 blocks × (q, k, v, o, c_fc, c_proj) per tower, and every LayerNorm's β and γ.
        Assert.Equal(2 * 2 * 6 + 2 * (2 * 2 * 2 + 3), shifts.Parameters.Count);
    }

    /// <summary>The OpenAI-named tensor a shift parameter (named after its site) adds to.</summary>
    static Tensor Target(IDictionary<string, Tensor> state, string name)
    {
        var parts = name.Split('.');
        string tower = parts[0] == "image" ? "visual.transformer" : "transformer";
        string towerRoot = parts[0] == "image" ? "visual" : "";
        string leaf = parts[^1]; // bias | weight
        if (parts[1] is "ln_pre" or "ln_post" or "ln_final")
            return state[$"{(towerRoot.Length > 0 ? towerRoot + "." : "")}{parts[1]}.{leaf}"];
        string block = $"{tower}.resblocks.{parts[1]}";
        if (parts[2] is "ln_1" or "ln_2") return state[$"{block}.{parts[2]}.{leaf}"];
        int width = (int)state[$"{block}.attn.out_proj.bias"].shape[0];
        return (parts[2], parts[3]) switch
        {
            ("attn", "q") => state[$"{block}.attn.in_proj_bias"].narrow(0, 0, width),
            ("attn", "k") => state[$"{block}.attn.in_proj_bias"].narrow(0, width, width),
            ("attn", "v") => state[$"{block}.attn.in_proj_bias"].narrow(0, 2 * width, width),
            ("attn", "o") => state[$"{block}.attn.out_proj.bias"],
            ("mlp", _) => state[$"{block}.mlp.{parts[3]}.bias"],
            _ => throw new ArgumentException(name),
        };
    }

    [Fact]
    public void DecoupledDecayOfAShiftActsOnTheFrozenValuePlusTheShift()
    {
        // AdamW on b + Δ (the official code trains the bias itself) and on Δ with anchor b see the same gradients.
        using var scope = NewDisposeScope();
        var b = randn(16, generator: new Generator(1));
        var full = b.clone().requires_grad_(true);
        var shift = zeros(16).requires_grad_(true);
        using var official = new Adam(full, weightDecay: 0.1, decoupled: true);
        using var ours = new Adam(shift, weightDecay: 0.1, decoupled: true, decayAnchor: b);
        var g = new Generator(2);
        for (int step = 0; step < 20; step++)
        {
            var grad = randn(16, generator: g);
            full.grad = grad.clone();
            shift.grad = grad.clone();
            official.Step(0.05);
            ours.Step(0.05);
        }
        Assert.True(b.add(shift).allclose(full, 1e-5, 1e-6));
        Assert.False(shift.allclose(full.sub(b).mul(0), 1e-3, 1e-3)); // it moved
    }

    [Fact]
    public void ABitFitCellRunsThroughTheHostAndSavesItsShifts()
    {
        var spec = new ExperimentReader(MethodCatalog.From(new BitFitPlugin())) { CurrentDirectory = Dir }
            .Read(ExperimentConfiguration.Load(world.Experiment(Temp("x"), """{ "bitfit": { "itersPerShot": 2, "batchSize": 8 } }"""), [], new Dictionary<string, string>()));
        var tracker = new InMemoryTracker();
        var summary = new ExperimentRunner(spec, tracker) { Log = TextWriter.Null }.Run();
        Assert.Equal((4, 0), (summary.Ran, summary.Failures.Count));
        var run = tracker.CellRuns("shapes/2/1/bitfit").Single();
        Assert.Equal("encoder", run.Tags[CellInputs.TierTag]);
        // The runner world's ViT: one block per tower, width 64: 6 biases (64·5 + 256) and 3 + 3 LayerNorm β per tower.
        long perTower = 5 * 64 + 256 + 2 * 64;
        Assert.Equal(2 * perTower + 64 + 64 + 64, run.Metrics.Single(m => m.Key == "trainable_parameters").Value);
    }
}
