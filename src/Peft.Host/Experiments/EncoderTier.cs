using Peft.Clip.Loading;
using Peft.Core.Encoders;
using Peft.Data.Datasets;

namespace Peft.Host.Experiments;

/// <summary>
/// The rules of the encoder tier (methods that train inside the towers, <see cref="IEncoderAdaptationMethod"/>): which
/// backbones and experiment settings they run under (every protocol; image datasets only). Checked when an experiment is read (plan and run), and again
/// against the loaded model for checkpoints whose architecture cannot be read from key names.
/// </summary>
public static class EncoderTier
{
    public static void Validate(BackboneSpec? backbone, IReadOnlyList<DatasetSpec> datasets, IReadOnlyList<MethodSpec> methods, string classes,
        List<string> problems)
    {
        var encoder = methods.Where(m => m.Descriptor.IsEncoderMethod).ToList();
        if (encoder.Count == 0) return;
        bool? vit = backbone is null ? null : ClipArchitecture.ImageTowerIsTransformer(backbone.Model);
        var blocks = backbone is null ? null : ClipArchitecture.Blocks(backbone.Model);
        foreach (var m in encoder)
        {
            if (vit == false && NeedsTransformerImageTower(m))
                problems.Add(NotApplicable(m, backbone!.Model));
            else if (blocks is { } b && TooDeep(m, b.Text, vit == false ? int.MaxValue : b.Image) is { } deep)
                problems.Add(deep);
            // Encoder-tier cells encode every evaluation set through their own adapted towers: all of them must be images.
            foreach (var d in datasets.SelectMany(d => new[] { d }.Concat(d.Targets).Concat(d.Transfer)).Where(d => d.Type == FeaturesDatasetReader.TypeName))
                problems.Add($"methods:{m.Name}: an encoder-tier method ({m.Descriptor.Name}) trains on and evaluates images through its adapted towers, " +
                             $"but dataset {d.Name} is a features file");
        }
    }

    /// <summary>The same backbone check against the loaded model (for checkpoints <see cref="Validate"/> could not read).</summary>
    public static void CheckLoaded(ExperimentSpec spec, IAdaptableClip clip)
    {
        var encoder = spec.Methods.Where(m => m.Descriptor.IsEncoderMethod).ToList();
        var problems = clip.ImageTowerIsTransformer
            ? encoder.Select(m => TooDeep(m, clip.Layers(Tower.Text), clip.Layers(Tower.Image))).OfType<string>().ToList()
            : encoder.Where(NeedsTransformerImageTower).Select(m => NotApplicable(m, spec.Backbone.Model)).ToList();
        if (problems.Count > 0) throw new ExperimentValidationException(spec.SourcePath, problems);
    }

    /// <summary>The problem when a grid point of <paramref name="m"/> needs more blocks than a tower it adapts has, else null.</summary>
    static string? TooDeep(MethodSpec m, int textBlocks, int imageBlocks)
    {
        int have = Math.Min(textBlocks, imageBlocks);
        int need = m.Points.Select(p => (p.Options as IEncoderMethodOptions)?.BlocksNeeded ?? 0).DefaultIfEmpty(0).Max();
        return need > have
            ? $"methods:{m.Name}: {m.Descriptor.Name} needs {need} transformer blocks in the towers it adapts, but the backbone has " +
              $"{textBlocks} (text) and {imageBlocks} (image); lower its depth"
            : null;
    }

    static bool NeedsTransformerImageTower(MethodSpec m) =>
        m.Points.Any(p => p.Options is IEncoderMethodOptions { AdaptsImageTransformer: true });

    static string NotApplicable(MethodSpec m, string model) =>
        $"methods:{m.Name}: {m.Descriptor.Name} with these options adapts the image tower's transformer blocks, but backbone {model} " +
        "has a ModifiedResNet image tower (RN50 family: no attention blocks before its attention pool); use a ViT backbone, " +
        "or options that adapt the text tower only";
}
