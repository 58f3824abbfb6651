using Peft.Clip.Loading;
using Peft.Core.Encoders;
using Peft.Methods.ClipLora;
using Peft.Tests.Clip;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Tests.Encoders;

/// <summary>
/// CLIP-LoRA inside the towers against the official code (Fixtures/encoder/clip_lora.safetensors, made by
/// tools/reference/make_lora_fixtures.py with MaxZanella/CLIP-LoRA's loralib on the random-weight ViT of
/// Fixtures/clip/vit_state_dict.pt): the same LoRA matrices give the same features, loss and gradients.
/// </summary>
public class ClipLoraOfficialTests
{
    static string Fixture => Path.Combine(AppContext.BaseDirectory, "Fixtures", "encoder", "clip_lora.safetensors");

    static readonly ClipLoraOptions AllProjections = new() { Params = ["q", "k", "v", "o"], Dropout = 0 };

    /// <summary>Max |a − b| over max |b|: a scale-free error for tensors whose magnitude varies between entries.</summary>
    static double RelativeError(Tensor a, Tensor b) =>
        a.sub(b).abs().max().item<float>() / Math.Max(b.abs().max().item<float>(), 1e-30f);

    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    static void LoadOfficialMatrices(ClipLoraLayers layers, StateDict fixture)
    {
        using var noGrad = no_grad();
        foreach (var (site, delta) in layers.Pairs)
        {
            string tower = site.Tower == Tower.Image ? "visual" : "text";
            string proj = site.Kind switch { LinearKind.Query => "q", LinearKind.Key => "k", LinearKind.Value => "v", _ => "o" };
            delta.A.copy_(fixture[$"lora/{tower}/{site.Block}/{proj}/A"]);
            delta.B.copy_(fixture[$"lora/{tower}/{site.Block}/{proj}/B"]);
        }
    }

    [Fact]
    public void AdaptedFeaturesLossAndGradientsEqualTheOfficialLoraLayers()
    {
        using var scope = NewDisposeScope();
        using var loaded = ClipLoader.Load(FixturePaths.Clip("vit_state_dict.pt"));
        IAdaptableClip clip = loaded.Model;
        using var fixture = SafeTensorsFile.Read(Fixture);
        using var layers = new ClipLoraLayers(clip, AllProjections, new Generator(1));
        Assert.Equal(2 * 2 * 4, layers.Pairs.Count); // 2 towers × 2 blocks × q, k, v, o
        LoadOfficialMatrices(layers, fixture);
        layers.Training = true;

        Tensor image, text;
        using (clip.Apply(layers.Adaptation))
        {
            image = clip.ForwardImage(fixture["images"]);
            text = clip.ForwardText(fixture["tokens"]);
        }
        Assert.True(RelativeError(image, fixture["image_features"]) < 1e-5, $"image features: {RelativeError(image, fixture["image_features"]):E2}");
        Assert.True(RelativeError(text, fixture["text_features"]) < 1e-5, $"text features: {RelativeError(text, fixture["text_features"]):E2}");

        // lora.py run_lora: cross-entropy of logit_scale (100) · normalised image @ normalised text features.
        var logits = image.div(image.norm(1, true)).matmul(text.div(text.norm(1, true)).t()).mul(100);
        var loss = nn.functional.cross_entropy(logits, fixture["labels"]);
        Assert.Equal(fixture["loss"].item<float>(), loss.item<float>(), 4);
        loss.backward();
        foreach (var (site, delta) in layers.Pairs)
        {
            string tower = site.Tower == Tower.Image ? "visual" : "text";
            string proj = site.Kind switch { LinearKind.Query => "q", LinearKind.Key => "k", LinearKind.Value => "v", _ => "o" };
            foreach (var (name, p) in new[] { ("A", delta.A), ("B", delta.B) })
            {
                var expected = fixture[$"grad/{tower}/{site.Block}/{proj}/{name}"];
                Assert.NotNull(p.grad);
                double error = RelativeError(p.grad!, expected);
                Assert.True(error < 1e-4, $"gradient of {site} lora_{name}: relative error {error:E2}");
            }
        }
    }

    [Fact]
    public void TheFrozenWeightsStayBitIdenticalAndDetachingRestoresTheFrozenTowers()
    {
        using var scope = NewDisposeScope();
        using var loaded = ClipLoader.Load(FixturePaths.Clip("vit_state_dict.pt"));
        var model = loaded.Model;
        using var fixture = SafeTensorsFile.Read(Fixture);
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var frozenImage = model.EncodeImage(fixture["images"]);
        var frozenText = model.EncodeText(fixture["tokens"]);

        using var layers = new ClipLoraLayers(model, AllProjections, new Generator(7));
        // Official initialisation: B = 0, so the adapted towers start equal to the frozen ones.
        using (model.Apply(layers.Adaptation))
        {
            Assert.True(RelativeError(model.EncodeImage(fixture["images"]), frozenImage) < 1e-6);
            Assert.True(RelativeError(model.EncodeText(fixture["tokens"]), frozenText) < 1e-6);
        }
        LoadOfficialMatrices(layers, fixture);
        using (model.Apply(layers.Adaptation))
        {
            var loss = model.ForwardImage(fixture["images"]).pow(2).sum().add(model.ForwardText(fixture["tokens"]).pow(2).sum());
            loss.backward();
            Assert.True(RelativeError(model.EncodeImage(fixture["images"]), frozenImage) > 1e-3); // the adaptation acts
            Assert.Throws<InvalidOperationException>(() => model.Apply(new TowerAdaptation())); // one at a time
        }
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
        foreach (var (key, value) in model.state_dict())
            Assert.True(Same(value, before[key]), $"{key} changed");
        Assert.True(Same(model.EncodeImage(fixture["images"]), frozenImage)); // detached: the frozen path, bit for bit
        Assert.True(Same(model.EncodeText(fixture["tokens"]), frozenText));
    }

    [Fact]
    public void SitesAreListedPerTowerAndUnknownOrMisappliedOnesAreErrors()
    {
        using var loaded = ClipLoader.Load(FixturePaths.Clip("vit_state_dict.pt"));
        IAdaptableClip clip = loaded.Model;
        Assert.True(clip.ImageTowerIsTransformer);
        Assert.Equal(2 * 2 * 6, clip.LinearSites.Count);        // 2 towers × 2 blocks × q, k, v, o, c_fc, c_proj
        Assert.Equal(2 * 2 * 2 + 3, clip.NormSites.Count);      // ln_1, ln_2 per block + ln_pre, ln_post, ln_final
        Assert.Equal(2 * 2 + 1, clip.TokenSites.Count);         // each block's input + the image embeddings
        Assert.Contains(clip.LinearSites, s => s.ToString() == "image.1.mlp.c_fc" && s.InFeatures == 128 && s.OutFeatures == 512);

        var bogus = new TowerAdaptation().Add(new LinearSite(Tower.Text, 5, LinearKind.Query, 128, 128), new LoraDelta(128, 128, 2, 1, 0, null));
        var error = Assert.Throws<ArgumentException>(() => clip.Apply(bogus));
        Assert.Contains("text.5.attn.q", error.Message);
        var site = clip.LinearSites[0];
        var twice = Assert.Throws<ArgumentException>(() => new TowerAdaptation().Add(site, new LoraDelta(128, 128, 2, 1, 0, null)).Add(site, new LoraDelta(128, 128, 2, 1, 0, null)));
        Assert.Contains(site.ToString(), twice.Message);

        using var rn = ClipLoader.Load(FixturePaths.Clip("rn_checkpoint.pt"));
        IAdaptableClip resnet = rn.Model;
        Assert.False(resnet.ImageTowerIsTransformer);
        Assert.DoesNotContain(resnet.LinearSites, s => s.Tower == Tower.Image);
        var refused = Assert.Throws<ArgumentException>(() => new ClipLoraLayers(resnet, new ClipLoraOptions(), null));
        Assert.Contains("ModifiedResNet", refused.Message);
        using var textOnly = new ClipLoraLayers(resnet, new ClipLoraOptions { Encoder = "text" }, null);
        Assert.All(textOnly.Pairs, p => Assert.Equal(Tower.Text, p.Site.Tower));
    }

    [Fact]
    public void DropoutMasksOnlyTheLoraInputWhileTrainingWithTheCellsGenerator()
    {
        using var scope = NewDisposeScope();
        var delta = new LoraDelta(64, 32, 2, 1, 0.25, new Generator(5));
        using (no_grad()) delta.B.normal_(0, 1, new Generator(6));
        var x = randn(8, 10, 64, generator: new Generator(3));
        var plain = x.matmul(delta.A.t()).matmul(delta.B.t()).mul(1 / Math.Sqrt(2));
        Assert.True(delta.Delta(x).allclose(plain, 1e-5, 1e-6)); // evaluation: no dropout

        delta.Training = true;
        var masked = delta.Delta(x);
        // The same generator state reproduces the mask: the delta drew it, from the cell's generator, on x alone.
        var mirror = new Generator(5);
        using (no_grad()) empty(2, 64).uniform_(-1, 1, mirror); // A's initial draw came first
        var expectedMask = empty_like(x).bernoulli_(0.75, mirror);
        var expected = x.mul(expectedMask).div(0.75).matmul(delta.A.t()).matmul(delta.B.t()).mul(1 / Math.Sqrt(2));
        Assert.True(masked.allclose(expected, 1e-5, 1e-6));
        double kept = expectedMask.mean().item<float>();
        Assert.InRange(kept, 0.72, 0.78);
    }
}
