using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Clip.Model;

/// <summary>
/// CLIP's ResNet image tower (RN50, RN101, RN50x4, ...): a 3-conv stem with average pooling, four stages of
/// anti-aliased bottlenecks, and attention pooling instead of global average pooling (openai/CLIP ModifiedResNet).
/// </summary>
public sealed class ModifiedResNet : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv1;
    readonly BatchNorm2d bn1;
    readonly Conv2d conv2;
    readonly BatchNorm2d bn2;
    readonly Conv2d conv3;
    readonly BatchNorm2d bn3;
    readonly ModuleList<Bottleneck> layer1;
    readonly ModuleList<Bottleneck> layer2;
    readonly ModuleList<Bottleneck> layer3;
    readonly ModuleList<Bottleneck> layer4;
    readonly AttentionPool2d attnpool;
    readonly FoldedConvBatchNorm _stem1, _stem2, _stem3; // eval-mode fast path, see FoldedConvBatchNorm

    public ModifiedResNet(ClipConfig c) : base(nameof(ModifiedResNet))
    {
        int width = c.VisionWidth;
        conv1 = nn.Conv2d(3, width / 2, 3, stride: 2, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(width / 2);
        conv2 = nn.Conv2d(width / 2, width / 2, 3, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(width / 2);
        conv3 = nn.Conv2d(width / 2, width, 3, padding: 1, bias: false);
        bn3 = nn.BatchNorm2d(width);
        int inplanes = width;
        ModuleList<Bottleneck> Stage(int planes, int blocks, int stride)
        {
            var list = new List<Bottleneck> { new(inplanes, planes, stride) };
            inplanes = planes * Bottleneck.Expansion;
            for (int i = 1; i < blocks; i++) list.Add(new Bottleneck(inplanes, planes, 1));
            return nn.ModuleList(list.ToArray());
        }
        layer1 = Stage(width, c.VisionLayers[0], 1);
        layer2 = Stage(width * 2, c.VisionLayers[1], 2);
        layer3 = Stage(width * 4, c.VisionLayers[2], 2);
        layer4 = Stage(width * 8, c.VisionLayers[3], 2);
        attnpool = new AttentionPool2d(c.ImageResolution / 32, width * 32, c.VisionHeads, c.EmbedDim);
        RegisterComponents();
        _stem1 = new FoldedConvBatchNorm(conv1, bn1, stride: 2, padding: 1);
        _stem2 = new FoldedConvBatchNorm(conv2, bn2, padding: 1);
        _stem3 = new FoldedConvBatchNorm(conv3, bn3, padding: 1);
        // Channels-last (NHWC) convolutions run faster on libtorch's oneDNN CPU kernels (RN50 +15% fp32, +12% bf16,
        // tools/bench/encoder-throughput.sh) where they work; ConvolutionCheck picks the layout (NCHW on CPUs that
        // report no cache sizes) and checks it. Loading copies values into these tensors and keeps their layout.
        Check = new ConvolutionCheck(ApplyLayout, layoutMatters: true);
        ApplyLayout(Check.Layout);
    }

    /// <summary>The layout this tower's convolutions run in, and the checks that chose it.</summary>
    public ConvolutionCheck Check { get; }

    void ApplyLayout(ConvolutionLayout layout)
    {
        using (no_grad())
            foreach (var p in parameters().Where(p => p.dim() == 4))
                p.set_(InLayout(p, layout));
    }

    /// <summary>The same values with NHWC strides (libtorch picks the channels-last kernels from the strides) or plain NCHW.</summary>
    static Tensor InLayout(Tensor t, ConvolutionLayout layout) =>
        layout == ConvolutionLayout.ChannelsLast ? t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : t.contiguous();

    public override Tensor forward(Tensor x)
    {
        if (training) return Forward(x);
        if (Check.MicroBatch == 0 || x.shape[0] <= Check.MicroBatch) return Check.Run(x, Forward);
        using var scope = NewDisposeScope();
        return cat(x.split(Check.MicroBatch).Select(part => Check.Run(part, Forward)).ToArray(), 0).MoveToOuterDisposeScope();
    }

    Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = InLayout(x, Check.Layout);
        bool folded = !training;
        var h = nn.functional.relu(folded ? _stem1.Forward(x) : bn1.forward(conv1.forward(x)));
        h = nn.functional.relu(folded ? _stem2.Forward(h) : bn2.forward(conv2.forward(h)));
        h = nn.functional.relu(folded ? _stem3.Forward(h) : bn3.forward(conv3.forward(h)));
        h = nn.functional.avg_pool2d(h, 2);
        foreach (var stage in new[] { layer1, layer2, layer3, layer4 })
            foreach (var block in stage) h = block.forward(h);
        return attnpool.forward(h).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stem1.Dispose();
            _stem2.Dispose();
            _stem3.Dispose();
        }
        base.Dispose(disposing);
    }
}
