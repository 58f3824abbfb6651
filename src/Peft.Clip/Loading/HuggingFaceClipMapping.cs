using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Peft.Clip.Model;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Clip.Loading;

/// <summary>
/// Maps a Hugging Face <c>CLIPModel</c> state dict onto OpenAI names (the inverse of transformers'
/// convert_clip_original_pytorch_to_hf.py): q/k/v projections concatenated into <c>in_proj_*</c> in q,k,v order,
/// projection matrices transposed, <c>pre_layrnorm</c> (sic) → <c>ln_pre</c>, fc1/fc2 → c_fc/c_proj.
/// </summary>
public static partial class HuggingFaceClipMapping
{
    /// <summary>Keys HF checkpoints may carry that have no OpenAI counterpart (now non-persistent buffers).</summary>
    public static bool IsIgnorable(string key) => key.EndsWith("embeddings.position_ids", StringComparison.Ordinal);

    [GeneratedRegex(@"^(vision_model|text_model)\.encoder\.layers\.(\d+)\.(.+)$")]
    private static partial Regex LayerKey();

    public static StateDict ToOpenAi(StateDict hf)
    {
        var result = new StateDict(hf.Source);
        var qkv = new Dictionary<string, Tensor?[]>(); // OpenAI in_proj key → [q, k, v]
        try
        {
            foreach (var key in hf.Keys)
            {
                if (IsIgnorable(key)) continue;
                var t = hf[key];
                var m = LayerKey().Match(key);
                if (m.Success)
                {
                    string tower = m.Groups[1].Value == "vision_model" ? "visual.transformer" : "transformer";
                    string prefix = $"{tower}.resblocks.{m.Groups[2].Value}.";
                    string rest = m.Groups[3].Value;
                    var qkvMatch = Regex.Match(rest, @"^self_attn\.([qkv])_proj\.(weight|bias)$");
                    if (qkvMatch.Success)
                    {
                        string target = prefix + (qkvMatch.Groups[2].Value == "weight" ? "attn.in_proj_weight" : "attn.in_proj_bias");
                        if (!qkv.TryGetValue(target, out var parts)) qkv[target] = parts = new Tensor?[3];
                        parts["qkv".IndexOf(qkvMatch.Groups[1].Value[0])] = t.alias();
                        continue;
                    }
                    string mapped = rest switch
                    {
                        _ when rest.StartsWith("self_attn.out_proj.") => "attn.out_proj." + rest["self_attn.out_proj.".Length..],
                        _ when rest.StartsWith("layer_norm1.") => "ln_1." + rest["layer_norm1.".Length..],
                        _ when rest.StartsWith("layer_norm2.") => "ln_2." + rest["layer_norm2.".Length..],
                        _ when rest.StartsWith("mlp.fc1.") => "mlp.c_fc." + rest["mlp.fc1.".Length..],
                        _ when rest.StartsWith("mlp.fc2.") => "mlp.c_proj." + rest["mlp.fc2.".Length..],
                        _ => "hf-unmapped:" + rest,
                    };
                    result.Add(mapped.StartsWith("hf-unmapped:") ? key : prefix + mapped, t.alias());
                    continue;
                }
                (string name, bool transpose) = key switch
                {
                    "vision_model.embeddings.patch_embedding.weight" => ("visual.conv1.weight", false),
                    "vision_model.embeddings.class_embedding" => ("visual.class_embedding", false),
                    "vision_model.embeddings.position_embedding.weight" => ("visual.positional_embedding", false),
                    "vision_model.pre_layrnorm.weight" => ("visual.ln_pre.weight", false),
                    "vision_model.pre_layrnorm.bias" => ("visual.ln_pre.bias", false),
                    "vision_model.post_layernorm.weight" => ("visual.ln_post.weight", false),
                    "vision_model.post_layernorm.bias" => ("visual.ln_post.bias", false),
                    "visual_projection.weight" => ("visual.proj", true),
                    "text_model.embeddings.token_embedding.weight" => ("token_embedding.weight", false),
                    "text_model.embeddings.position_embedding.weight" => ("positional_embedding", false),
                    "text_model.final_layer_norm.weight" => ("ln_final.weight", false),
                    "text_model.final_layer_norm.bias" => ("ln_final.bias", false),
                    "text_projection.weight" => ("text_projection", true),
                    "logit_scale" => ("logit_scale", false),
                    _ => (key, false), // left as is: reported as unexpected by the strict check
                };
                result.Add(name, transpose ? t.t().contiguous() : t.alias());
            }
            foreach (var (target, parts) in qkv)
            {
                if (parts.Any(p => p is null))
                    throw new ClipCheckpointException(hf.Source, $"incomplete q/k/v projections for '{target}': found {string.Join(",", "qkv".Where((_, i) => parts[i] is not null))}", target);
                result.Add(target, cat(parts!, 0));
                foreach (var p in parts) p!.Dispose();
            }
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>Reads activation, LayerNorm epsilon and head counts from config.json (text_config / vision_config).</summary>
    public static ClipConfig ApplyConfig(ClipConfig inferred, string configPath)
    {
        JsonNode root;
        try { root = JsonNode.Parse(File.ReadAllText(configPath)) ?? throw new FormatException("empty"); }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException)
        {
            throw new ClipCheckpointException(configPath, $"config.json is not valid JSON: {e.Message}", inner: e);
        }
        var text = root["text_config"];
        var vision = root["vision_config"];
        ClipActivation Act(JsonNode? section, string name)
        {
            var act = section?["hidden_act"]?.GetValue<string>() ?? "quick_gelu";
            return act switch
            {
                "quick_gelu" => ClipActivation.QuickGelu,
                "gelu" => ClipActivation.Gelu,
                _ => throw new ClipCheckpointException(configPath, $"{name}.hidden_act '{act}' is not supported (quick_gelu, gelu)", $"{name}.hidden_act"),
            };
        }
        var textAct = Act(text, "text_config");
        var visionAct = Act(vision, "vision_config");
        if (textAct != visionAct)
            throw new ClipCheckpointException(configPath, $"different activations for text ({textAct}) and vision ({visionAct}) are not supported", "hidden_act");
        double eps = text?["layer_norm_eps"]?.GetValue<double>() ?? 1e-5;
        return inferred with
        {
            Activation = textAct,
            LayerNormEps = eps,
            TextHeadCount = text?["num_attention_heads"]?.GetValue<int>() ?? inferred.TextHeadCount,
            VisionHeadCount = vision?["num_attention_heads"]?.GetValue<int>() ?? inferred.VisionHeadCount,
        };
    }
}
