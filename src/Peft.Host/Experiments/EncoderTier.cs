using Peft.Clip.Loading;
using Peft.Core.Encoders;
using Peft.Data.Datasets;

namespace Peft.Host.Experiments;

/// <summary>
/// The rules of the encoder tier (methods that train inside the towers, <see cref="IEncoderAdaptationMethod"/>): which
/// backbones and experiment settings they run under. Checked when an experiment is read (plan and run), and again
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
        foreach (var m in encoder)
        {
            if (vit == false && NeedsTransformerImageTower(m))
                problems.Add(NotApplicable(m, backbone!.Model));
            if (classes == ExperimentClasses.BaseToNew)
                problems.Add($"methods:{m.Name}: an encoder-tier method ({m.Descriptor.Name}) cannot run under classes: {ExperimentClasses.BaseToNew} yet " +
                             "(new-class features would come from its adapted towers per cell); run it in an experiment with classes: all");
            foreach (var d in datasets.Where(d => d.Targets.Count > 0 || d.Transfer.Count > 0))
                problems.Add($"methods:{m.Name}: an encoder-tier method ({m.Descriptor.Name}) is not evaluated on shift or transfer targets yet " +
                             $"(dataset {d.Name} has some); run it in an experiment without targets");
            foreach (var d in datasets.Where(d => d.Type == FeaturesDatasetReader.TypeName))
                problems.Add($"methods:{m.Name}: an encoder-tier method ({m.Descriptor.Name}) trains on images, but dataset {d.Name} is a features file");
        }
    }

    /// <summary>The same backbone check against the loaded model (for checkpoints <see cref="Validate"/> could not read).</summary>
    public static void CheckLoaded(ExperimentSpec spec, IAdaptableClip clip)
    {
        if (clip.ImageTowerIsTransformer) return;
        var problems = spec.Methods.Where(m => m.Descriptor.IsEncoderMethod && NeedsTransformerImageTower(m))
            .Select(m => NotApplicable(m, spec.Backbone.Model)).ToList();
        if (problems.Count > 0) throw new ExperimentValidationException(spec.SourcePath, problems);
    }

    static bool NeedsTransformerImageTower(MethodSpec m) =>
        m.Points.Any(p => p.Options is IEncoderMethodOptions { AdaptsImageTransformer: true });

    static string NotApplicable(MethodSpec m, string model) =>
        $"methods:{m.Name}: {m.Descriptor.Name} with these options adapts the image tower's transformer blocks, but backbone {model} " +
        "has a ModifiedResNet image tower (RN50 family: no attention blocks before its attention pool); use a ViT backbone, " +
        "or options that adapt the text tower only";
}
