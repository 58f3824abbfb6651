using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Clip.Model;

/// <summary>
/// ModifiedResNet bottleneck: all convs stride 1, an AvgPool after conv2 when stride > 1 ("anti-aliased"
/// downsampling), and a downsample branch AvgPool → 1×1 conv → BN named <c>downsample.0/1</c> as in openai/CLIP.
/// </summary>
public sealed class Bottleneck : nn.Module<Tensor, Tensor>
{
    public const int Expansion = 4;
    readonly Conv2d conv1;
    readonly BatchNorm2d bn1;
    readonly Conv2d conv2;
    readonly BatchNorm2d bn2;
    readonly Conv2d conv3;
    readonly BatchNorm2d bn3;
    readonly Sequential? downsample;
    readonly int _stride;
    // Eval-mode fast path: each conv + BN as one convolution (not registered: state_dict names stay OpenAI's).
    readonly FoldedConvBatchNorm _block1, _block2, _block3;
    readonly FoldedConvBatchNorm? _shortcut;

    public Bottleneck(int inplanes, int planes, int stride) : base(nameof(Bottleneck))
    {
        conv1 = nn.Conv2d(inplanes, planes, 1, bias: false);
        bn1 = nn.BatchNorm2d(planes);
        conv2 = nn.Conv2d(planes, planes, 3, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(planes);
        conv3 = nn.Conv2d(planes, planes * Expansion, 1, bias: false);
        bn3 = nn.BatchNorm2d(planes * Expansion);
        _stride = stride;
        if (stride > 1 || inplanes != planes * Expansion)
        {
            downsample = nn.Sequential(
                ("-1", nn.AvgPool2d(stride)),
                ("0", nn.Conv2d(inplanes, planes * Expansion, 1, bias: false)),
                ("1", nn.BatchNorm2d(planes * Expansion)));
        }
        RegisterComponents();
        _block1 = new FoldedConvBatchNorm(conv1, bn1);
        _block2 = new FoldedConvBatchNorm(conv2, bn2, padding: 1);
        _block3 = new FoldedConvBatchNorm(conv3, bn3);
        if (downsample is not null)
            _shortcut = new FoldedConvBatchNorm((Conv2d)downsample.children().ElementAt(1), (BatchNorm2d)downsample.children().ElementAt(2));
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        bool folded = !training;
        var h = nn.functional.relu(folded ? _block1.Forward(x) : bn1.forward(conv1.forward(x)));
        h = nn.functional.relu(folded ? _block2.Forward(h) : bn2.forward(conv2.forward(h)));
        if (_stride > 1) h = nn.functional.avg_pool2d(h, _stride);
        h = folded ? _block3.Forward(h) : bn3.forward(conv3.forward(h));
        Tensor identity = x;
        if (downsample is not null)
            identity = folded ? _shortcut!.Forward(_stride > 1 ? nn.functional.avg_pool2d(x, _stride) : x) : downsample.forward(x);
        return h.add(identity, RootedScalars.One).relu_().MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _block1.Dispose();
            _block2.Dispose();
            _block3.Dispose();
            _shortcut?.Dispose();
        }
        base.Dispose(disposing);
    }
}
