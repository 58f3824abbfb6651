using System.Text.Json;
using Peft.Clip.Loading;
using Peft.Core;
using Peft.Host.Methods;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Host.Experiments;

/// <summary>The files logged with a cell's run besides the split manifest: per-class accuracy, the grid, the classifier's weights.</summary>
public static class CellArtifacts
{
    /// <summary>Weights larger than this are not uploaded (a tag says so): 20 MB keeps an mlruns folder of a full grid small.</summary>
    public const long MaxWeightsBytes = 20L * 1024 * 1024;

    static double? Percent(double fraction) => double.IsNaN(fraction) ? null : fraction * 100;

    /// <summary><c>per_class_accuracy.json</c>: per class (label order) its name and test / validation accuracy in percent (null when the split has no image of it).</summary>
    public static byte[] PerClass(IReadOnlyList<string> classNames, ClassifierEvaluation test, ClassifierEvaluation val) =>
        JsonSerializer.SerializeToUtf8Bytes(classNames.Select((name, label) => new
        {
            label, name, test = Percent(test.PerClass[label]), val = Percent(val.PerClass[label]),
        }), LocalResultStore.Json);

    /// <summary><c>grid.json</c>: every point's axis values, validation accuracy and fit time, and which point was selected;
    /// with the ablation view also each point's test accuracy, labelled as not used for selection.</summary>
    public static byte[] Grid(GridFit fit) =>
        JsonSerializer.SerializeToUtf8Bytes(new
        {
            selected = fit.SelectedIndex,
            rule = "best validation top-1; ties: first point",
            ablation = fit.Points.Any(p => p.Test is not null)
                ? "testTop1 of every point is the ablation view: evaluated after selection's validation scores, never used to select" : null,
            points = fit.Points.Select(p => new
            {
                values = p.Point.AxisValues, valTop1 = Percent(p.Validation.Top1), valMeanPerClass = Percent(p.Validation.MeanPerClass), fitSeconds = p.FitSeconds,
                testTop1 = p.Test is { } t ? Percent(t.Top1) : null,
            }),
        }, GridJson);

    static readonly JsonSerializerOptions GridJson = new(LocalResultStore.Json) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    /// <summary>The classifier's weights as safetensors bytes (through a temporary file in <paramref name="tempDir"/>), or null if it has none.</summary>
    public static byte[]? Weights(IFeatureClassifier classifier, string tempDir)
    {
        if (classifier.Weights.Count == 0) return null;
        Directory.CreateDirectory(tempDir);
        var path = Path.Combine(tempDir, $"weights.{Environment.ProcessId}.{Guid.NewGuid():N}.safetensors");
        try
        {
            using var scope = NewDisposeScope();
            var tensors = classifier.Weights.OrderBy(w => w.Key, StringComparer.Ordinal)
                .Select(w => new KeyValuePair<string, Tensor>(w.Key, w.Value.detach().cpu().contiguous())).ToList();
            SafeTensorsFile.Write(path, tensors);
            return File.ReadAllBytes(path);
        }
        finally
        {
            if (File.Exists(path)) File.Delete(path);
        }
    }
}
