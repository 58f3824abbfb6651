using Peft.Core.Encoders;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Methods.ClipLora;

/// <summary>
/// The LoRA pairs of one CLIP-LoRA run, placed as loralib/utils.py's <c>apply_lora</c> places them: on the chosen
/// attention projections of the chosen blocks of the chosen towers. Owns the pairs; <see cref="Adaptation"/> is what
/// the towers run with.
/// </summary>
public sealed class ClipLoraLayers : IDisposable
{
    // loralib/utils.py INDEX_POSITIONS_TEXT / INDEX_POSITIONS_VISION['ViT-B/16'] (12 blocks).
    static readonly Dictionary<string, int[]> TwelveBlocks = new()
    {
        ["all"] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], ["bottom"] = [0, 1, 2, 3], ["mid"] = [4, 5, 6, 7], ["up"] = [8, 9, 10, 11],
        ["half-up"] = [6, 7, 8, 9, 10, 11], ["half-bottom"] = [0, 1, 2, 3, 4, 5], ["top3"] = [9, 10, 11],
    };

    readonly List<(LinearSite Site, LoraDelta Delta)> _pairs = [];

    public ClipLoraLayers(IAdaptableClip clip, ClipLoraOptions options, Generator? generator)
    {
        var towers = options.Encoder switch { "text" => new[] { Tower.Text }, "vision" => [Tower.Image], _ => [Tower.Text, Tower.Image] };
        if (towers.Contains(Tower.Image) && !clip.ImageTowerIsTransformer)
            throw new ArgumentException($"clip-lora: encoder '{options.Encoder}' needs a ViT image tower; this backbone's image tower is a ModifiedResNet (use encoder 'text')");
        var kinds = options.Params.Select(p => p switch
        {
            "q" => LinearKind.Query, "k" => LinearKind.Key, "v" => LinearKind.Value, "o" => LinearKind.Output,
            _ => throw new ArgumentException($"clip-lora: params: '{p}' is not one of q, k, v, o"),
        }).ToList();
        foreach (var tower in towers)
        {
            var blocks = Blocks(options.Position, clip.Layers(tower), tower);
            // Text tower first, then the image tower, block by block, in q, k, v, o order: apply_lora's order (and so
            // the order the pairs draw their initial values from the generator).
            foreach (var site in clip.LinearSites.Where(s => s.Tower == tower && blocks.Contains(s.Block) && kinds.Contains(s.Kind)).OrderBy(s => s.Block).ThenBy(s => s.Kind))
                _pairs.Add((site, new LoraDelta(site.InFeatures, site.OutFeatures, options.Rank, options.Alpha, options.Dropout, generator)));
        }
        Adaptation = new TowerAdaptation();
        foreach (var (site, delta) in _pairs) Adaptation.Add(site, delta);
    }

    static int[] Blocks(string position, int layers, Tower tower)
    {
        if (layers == 12) return TwelveBlocks[position];
        return position switch
        {
            "all" => Enumerable.Range(0, layers).ToArray(),
            "half-up" => Enumerable.Range(layers / 2, layers - layers / 2).ToArray(),
            "half-bottom" => Enumerable.Range(0, layers / 2).ToArray(),
            _ => throw new ArgumentException($"clip-lora: position '{position}' is defined for 12-block towers; the {tower.ToString().ToLowerInvariant()} tower has {layers} (use all, half-up or half-bottom)"),
        };
    }

    public TowerAdaptation Adaptation { get; }
    public IReadOnlyList<(LinearSite Site, LoraDelta Delta)> Pairs => _pairs;

    /// <summary>Every trainable tensor, named <c>&lt;site&gt;.lora_A</c> / <c>.lora_B</c> (the artifact a run saves).</summary>
    public IEnumerable<(string Name, Parameter Parameter)> Parameters() =>
        _pairs.SelectMany(p => new[] { ($"{p.Site}.lora_A", p.Delta.A), ($"{p.Site}.lora_B", p.Delta.B) });

    /// <summary>Dropout on (training) or off (evaluation) for every pair.</summary>
    public bool Training { set { foreach (var (_, d) in _pairs) d.Training = value; } }

    public void Dispose() { foreach (var (_, d) in _pairs) d.Dispose(); }
}
