using Peft.Clip.Model;
using Peft.Tests.Host;
using static TorchSharp.torch;

namespace Peft.Tests.Clip;

public class ImageChunkTests
{
    [Fact]
    public void AViTEncodesLargeBatchesInChunksThatKeepActivationsUnderTheReuseThreshold()
    {
        // ViT-B/16: L = 197, MLP 3072 wide, 12 heads: 2.4 MB per image of hidden layer, 6 images per pass; ResNets: no chunks.
        var vitB16 = RandomClip.SmallViT with { ImageResolution = 224, VisionWidth = 768, VisionLayers = [12] };
        Assert.Equal(6, ClipModel.ImageChunkFor(vitB16));
        Assert.Equal(int.MaxValue, ClipModel.ImageChunkFor(RandomClip.SmallViT with { VisionPatchSize = null, VisionLayers = [1, 1, 1, 1] }));

        // 64 heads over 197 tokens: the attention scores alone (9.9 MB per image) allow one image per pass.
        using var scope = NewDisposeScope();
        using var model = new ClipModel(RandomClip.SmallViT with { ImageResolution = 224, VisionHeadCount = 64 });
        using (no_grad())   // a new module's tensors are not initialised (uninitialised memory made this test fail in CI)
        {
            var g = new Generator(5);
            foreach (var (_, p) in model.named_parameters()) p.copy_(randn(p.shape, generator: g) * 0.1);
        }
        Assert.False(model.EncodeImage(randn([1, 3, 224, 224], generator: new Generator(1))).isnan().any().item<bool>());
        Assert.Equal(1, model.ImageChunk);
        var images = randn([3, 3, 224, 224], generator: new Generator(2));
        var chunked = model.EncodeImage(images);
        Assert.Equal(new long[] { 3, model.EmbedDim }, chunked.shape);
        for (int i = 0; i < 3; i++)
            Assert.True(chunked[i].allclose(model.EncodeImage(images.narrow(0, i, 1))[0], 1e-5, 1e-6), $"row {i} is not its own pass");   // oneDNN may pick another kernel per call
        using var noGrad = no_grad();
        var whole = model.ForwardImage(images);   // the same tower in one pass
        Assert.True(chunked.allclose(whole, 1e-4, 1e-5));
    }
}
