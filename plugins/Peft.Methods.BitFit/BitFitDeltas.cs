using Peft.Core.Encoders;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Methods.BitFit;

/// <summary>A trainable shift Δb [Out] of a frozen bias: the site computes W x + b + Δb. Starts at zero.</summary>
sealed class BiasShift(int width) : ILinearDelta
{
    public Parameter Delta { get; } = new(zeros(width), requires_grad: true);
    Tensor ILinearDelta.Delta(Tensor input) => Delta;
}

/// <summary>Trainable shifts of a frozen LayerNorm's β (and γ when <paramref name="gain"/>). Start at zero.</summary>
sealed class NormShift(int width, bool gain) : INormDelta
{
    public Parameter? WeightShift { get; } = gain ? new Parameter(zeros(width), requires_grad: true) : null;
    public Parameter BiasShift { get; } = new(zeros(width), requires_grad: true);
    public Tensor? Weight => WeightShift;
    public Tensor? Bias => BiasShift;
}

/// <summary>
/// The shifts of one BitFit run: every bias of the chosen towers' transformer blocks (q, k, v, attention output, c_fc,
/// c_proj), every LayerNorm β (block norms and the towers' own: ln_pre, ln_post, ln_final), and γ with Norms. Each
/// parameter is named after its site and keeps the frozen value it shifts, which weight decay acts on.
/// </summary>
sealed class BitFitShifts : IDisposable
{
    readonly List<(string Name, Parameter Parameter, Tensor Frozen)> _parameters = [];

    public BitFitShifts(IAdaptableClip clip, BitFitOptions options)
    {
        var towers = options.Towers switch { "text" => new[] { Tower.Text }, "vision" => [Tower.Image], _ => [Tower.Text, Tower.Image] };
        if (towers.Contains(Tower.Image) && !clip.ImageTowerIsTransformer)
            throw new ArgumentException($"bitfit: towers '{options.Towers}' needs a ViT image tower; this backbone's image tower is a ModifiedResNet (use towers 'text')");
        foreach (var site in clip.LinearSites.Where(s => towers.Contains(s.Tower)))
        {
            var shift = new BiasShift(site.OutFeatures);
            Adaptation.Add(site, shift);
            _parameters.Add(($"{site}.bias", shift.Delta, clip.FrozenBias(site)));
        }
        foreach (var site in clip.NormSites.Where(s => towers.Contains(s.Tower)))
        {
            var shift = new NormShift(site.Width, options.Norms);
            Adaptation.Add(site, shift);
            var (gain, bias) = clip.FrozenNorm(site);
            _parameters.Add(($"{site}.bias", shift.BiasShift, bias));
            if (shift.WeightShift is { } w) _parameters.Add(($"{site}.weight", w, gain));
            else gain.Dispose();
        }
    }

    public TowerAdaptation Adaptation { get; } = new();
    public IReadOnlyList<(string Name, Parameter Parameter, Tensor Frozen)> Parameters => _parameters;

    public void Dispose()
    {
        foreach (var (_, p, frozen) in _parameters) { p.Dispose(); frozen.Dispose(); }
    }
}
