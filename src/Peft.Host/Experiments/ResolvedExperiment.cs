using System.Text;
using System.Text.Json;

namespace Peft.Host.Experiments;

/// <summary>
/// The experiment's settings as they ran, after the file's defaults, presets, environment and <c>--set</c>: what the
/// parent run keeps as <c>experiment/resolved.json</c> beside the file as written, so a run can be reproduced from
/// MLflow alone.
/// </summary>
public static class ResolvedExperiment
{
    public static string Json(ExperimentSpec spec, Shard shard)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("name", spec.Name);
            w.WriteString("description", spec.Description);
            w.WriteString("source", spec.SourcePath);
            w.WriteString("codeVersion", CodeVersion.Current);
            w.WriteStartObject("backbone");
            w.WriteString("model", spec.Backbone.Model);
            w.WriteString("dtype", spec.Backbone.Dtype);
            if (spec.Backbone.EncoderDtype is { } encoderDtype) w.WriteString("encoderDtype", encoderDtype);
            w.WriteString("preprocess", spec.Backbone.Preprocess);
            w.WriteEndObject();
            w.WriteStartArray("datasets");
            foreach (var d in spec.Datasets)
            {
                w.WriteStartObject();
                w.WriteString("name", d.Name);
                w.WriteString("type", d.Type);
                w.WriteString("root", d.Root);
                foreach (var (key, list) in new[] { ("targets", d.Targets), ("transfer", d.Transfer) })
                {
                    if (list.Count == 0) continue;
                    w.WriteStartArray(key);
                    foreach (var t in list)
                    {
                        w.WriteStartObject();
                        w.WriteString("name", t.Name);
                        w.WriteString("type", t.Type);
                        w.WriteString("root", t.Root);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            Ints(w, "shots", spec.Shots);
            Ints(w, "seeds", spec.Seeds);
            w.WriteString("sampling", spec.Sampling);
            if (spec.ValShots is int v) w.WriteNumber("valShots", v); else w.WriteString("valShots", "min(shots, 4)");
            w.WriteNumber("trainViews", spec.TrainViews);
            w.WriteString("protocol", spec.Protocol);
            w.WriteString("classes", spec.Classes);
            w.WriteStartObject("methods");
            foreach (var m in spec.Methods)
            {
                w.WriteStartObject(m.Name);
                w.WriteString("method", m.Descriptor.Name); // the installed method (differs from the name for a variant)
                w.WriteString("augmentation", spec.AugmentationOf(m.Name).ToString());
                // Per dataset: every grid point's option values (presets filled in), and which presets applied.
                foreach (var d in spec.Datasets)
                {
                    w.WriteStartObject(d.Name);
                    w.WriteString("presets", m.PresetsFor(d.Name));
                    w.WriteStartArray("points");
                    foreach (var point in m.PointsFor(d.Name))
                    {
                        w.WriteStartObject();
                        foreach (var (key, value) in point.OptionValues.OrderBy(o => o.Key, StringComparer.Ordinal)) w.WriteString(key, value);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteStartObject("tracking");
            w.WriteString("uri", spec.Tracking.Uri);
            w.WriteString("experimentName", spec.Tracking.ExperimentName);
            w.WriteEndObject();
            w.WriteString("output", spec.OutputDir);
            w.WriteString("cache", spec.CacheDir);
            w.WriteString("shard", shard.ToString());
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    static void Ints(Utf8JsonWriter w, string name, IEnumerable<int> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }
}
