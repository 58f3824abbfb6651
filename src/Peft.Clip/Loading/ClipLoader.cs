using System.Text.Json.Nodes;
using Peft.Clip.Model;
using TorchSharp;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Clip.Loading;

/// <summary>
/// One entry point for every checkpoint format (<see cref="CheckpointFormat"/>): read the tensors, map them to
/// OpenAI names, infer the architecture from their shapes, and copy them into a <see cref="ClipModel"/> after a
/// strict check (every expected key present with its exact shape; unexpected keys reported).
/// </summary>
public static class ClipLoader
{
    /// <summary>Scalars and buffers that checkpoints carry but the module tree does not (openai/CLIP build_model deletes the first three).</summary>
    static readonly HashSet<string> KnownExtras = ["input_resolution", "context_length", "vocab_size", "attn_mask"];

    public static LoadedClip Load(string path, ClipLoadOptions? options = null)
    {
        options ??= new ClipLoadOptions();
        var format = DetectFormat(path);
        using var raw = ReadWeights(path, format, out string? hfConfig);
        var ignored = new List<string>();
        foreach (var key in raw.Keys)
            if (KnownExtras.Contains(key) || key.EndsWith(".attn_mask", StringComparison.Ordinal)) ignored.Add(key);

        var config = ClipConfig.Infer(raw.Shapes(), path);
        if (hfConfig is not null) config = HuggingFaceClipMapping.ApplyConfig(config, hfConfig);
        else if (options.Activation is { } act) config = config with { Activation = act };

        var model = new ClipModel(config);
        try
        {
            CopyStrict(model, raw, ignored, options.AllowUnexpectedKeys);
            model.UseComputeType(options.ComputeType);
            return new LoadedClip(model, format, path, ignored);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public static CheckpointFormat DetectFormat(string path)
    {
        if (Directory.Exists(path))
        {
            if (!File.Exists(Path.Combine(path, "config.json")))
                throw new ClipCheckpointException(path, "folder has no config.json: not a Hugging Face CLIPModel folder");
            if (WeightFile(path) is null)
                throw new ClipCheckpointException(path, "Hugging Face folder has no model.safetensors, model.safetensors.index.json or pytorch_model.bin");
            return CheckpointFormat.HuggingFaceFolder;
        }
        if (!File.Exists(path))
            throw new ClipCheckpointException(path, "no such file or folder");
        byte[] head = new byte[9];
        int n;
        using (var s = File.OpenRead(path)) n = s.Read(head);
        if (n >= 4 && head[0] == 0x50 && head[1] == 0x4b && head[2] == 0x03 && head[3] == 0x04)
            return TorchZipReader.IsTorchScript(path) ? CheckpointFormat.OpenAiTorchScript : CheckpointFormat.TorchStateDict;
        if (n >= 2 && head[0] == 0x80 && head[1] <= 5)
            throw new ClipCheckpointException(path, "legacy (pre-1.6) torch.save format; re-save it with a newer PyTorch (torch.save(sd, f)) or as safetensors");
        if (n == 9 && head[8] == (byte)'{')
            return CheckpointFormat.SafeTensors;
        throw new ClipCheckpointException(path, "unknown checkpoint format (expected an OpenAI .pt archive, a torch.save state dict, a .safetensors file or a Hugging Face folder)");
    }

    static string? WeightFile(string folder) =>
        new[] { "model.safetensors", "model.safetensors.index.json", "pytorch_model.bin" }
            .Select(f => Path.Combine(folder, f)).FirstOrDefault(File.Exists);

    /// <summary>The weights under OpenAI's names; a damaged tensor file is reported as a checkpoint error.</summary>
    static StateDict ReadWeights(string path, CheckpointFormat format, out string? hfConfig)
    {
        try
        {
            return ReadOpenAiNamed(path, format, out hfConfig);
        }
        catch (TensorFileException e) when (e is not ClipCheckpointException)
        {
            throw new ClipCheckpointException(e.File, e.Problem, e.Key, e);
        }
    }

    static StateDict ReadOpenAiNamed(string path, CheckpointFormat format, out string? hfConfig)
    {
        hfConfig = null;
        switch (format)
        {
            case CheckpointFormat.OpenAiTorchScript:
                return ReadTorchScript(path);
            case CheckpointFormat.TorchStateDict:
                return Unprefix(FromPickle(TorchZipReader.Read(path), path));
            case CheckpointFormat.SafeTensors:
                return Unprefix(SafeTensorsFile.Read(path));
            case CheckpointFormat.HuggingFaceFolder:
                hfConfig = Path.Combine(path, "config.json");
                using (var hf = ReadHuggingFaceWeights(path))
                    return HuggingFaceClipMapping.ToOpenAi(hf);
            default:
                throw new ArgumentOutOfRangeException(nameof(format));
        }
    }

    /// <summary>TorchScript archive: libtorch deserialises it; params and buffers come from its state_dict.</summary>
    static StateDict ReadTorchScript(string path)
    {
        jit.ScriptModule module;
        try
        {
            module = jit.load(path);
        }
        catch (Exception e)
        {
            throw new ClipCheckpointException(path, $"TorchScript archive could not be loaded by libtorch: {e.Message}", inner: e);
        }
        using (module)
        {
            var result = new StateDict(path);
            foreach (var (name, t) in module.state_dict())
                result.Add(name, t.detach().clone());
            if (!result.Contains("visual.conv1.weight") || !result.Contains("token_embedding.weight"))
            {
                var some = string.Join(", ", result.Keys.Take(5));
                result.Dispose();
                throw new ClipCheckpointException(path, $"TorchScript archive does not hold CLIP weights (no 'visual.conv1.weight' / 'token_embedding.weight'; it has {some}...)");
            }
            return result;
        }
    }

    /// <summary>A torch.save object: a flat state dict, or a checkpoint dict nesting it under "state_dict" / "model".</summary>
    static StateDict FromPickle(object root, string path)
    {
        if (root is not Dictionary<string, object> dict)
            throw new ClipCheckpointException(path, $"torch.save file holds a {root?.GetType().Name ?? "null"}, not a state dict");
        if (dict.ContainsKey("__class__"))
            throw new ClipCheckpointException(path, "torch.save file holds a pickled module, not a state dict; save model.state_dict() instead");
        foreach (var nested in new[] { "state_dict", "model", "module" })
            if (dict.TryGetValue(nested, out var inner) && inner is Dictionary<string, object> innerDict)
            {
                foreach (var v in dict.Where(kv => kv.Key != nested).Select(kv => kv.Value).OfType<Tensor>()) v.Dispose();
                dict = innerDict;
                break;
            }
        var result = new StateDict(path);
        foreach (var (key, value) in dict)
        {
            if (value is Tensor t) result.Add(key, t);
            else if (value is not null && value is not string && !value.GetType().IsPrimitive)
            {
                result.Dispose();
                throw new ClipCheckpointException(path, $"entry '{key}' is a {value.GetType().Name}, not a tensor", key);
            }
        }
        return result;
    }

    /// <summary>Strips a prefix every key shares from distributed training ("module.").</summary>
    static StateDict Unprefix(StateDict sd)
    {
        const string prefix = "module.";
        if (sd.Count == 0 || !sd.Keys.All(k => k.StartsWith(prefix, StringComparison.Ordinal))) return sd;
        var result = new StateDict(sd.Source);
        foreach (var k in sd.Keys) result.Add(k[prefix.Length..], sd[k].alias());
        sd.Dispose();
        return result;
    }

    static StateDict ReadHuggingFaceWeights(string folder)
    {
        var file = WeightFile(folder)!;
        if (file.EndsWith(".bin", StringComparison.Ordinal))
            return FromPickle(TorchZipReader.Read(file), file);
        if (!file.EndsWith(".index.json", StringComparison.Ordinal))
            return SafeTensorsFile.Read(file);
        // Sharded: weight_map names the shard of every tensor.
        var index = JsonNode.Parse(File.ReadAllText(file))?["weight_map"]?.AsObject()
                    ?? throw new ClipCheckpointException(file, "index has no weight_map");
        var result = new StateDict(folder);
        foreach (var shard in index.Select(kv => kv.Value!.GetValue<string>()).Distinct())
        {
            using var part = SafeTensorsFile.Read(Path.Combine(folder, shard));
            foreach (var k in part.Keys) result.Add(k, part[k].alias());
        }
        return result;
    }

    static void CopyStrict(ClipModel model, StateDict raw, List<string> ignored, bool allowUnexpected)
    {
        var expected = model.state_dict();
        var missing = new List<string>();
        using (no_grad())
        {
            foreach (var (key, target) in expected)
            {
                if (!raw.TryGet(key, out var source))
                {
                    // BatchNorm's counter is absent from some exports and unused in eval mode.
                    if (!key.EndsWith("num_batches_tracked", StringComparison.Ordinal)) missing.Add(key);
                    continue;
                }
                if (!source.shape.SequenceEqual(target.shape))
                    throw new ClipCheckpointException(raw.Source,
                        $"key '{key}' has shape [{string.Join(", ", source.shape)}] in the checkpoint but the model needs [{string.Join(", ", target.shape)}]", key);
            }
            if (missing.Count > 0)
                throw new ClipCheckpointException(raw.Source,
                    $"{missing.Count} expected key(s) missing: {string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? ", ..." : "")}", missing[0]);
            var unexpected = raw.Keys.Where(k => !expected.ContainsKey(k) && !ignored.Contains(k)).ToList();
            if (unexpected.Count > 0 && !allowUnexpected)
                throw new ClipCheckpointException(raw.Source,
                    $"{unexpected.Count} unexpected key(s) (not part of a CLIP model): {string.Join(", ", unexpected.Take(10))}{(unexpected.Count > 10 ? ", ..." : "")}", unexpected[0]);
            ignored.AddRange(unexpected);
            foreach (var (key, target) in expected)
                if (raw.TryGet(key, out var source)) target.copy_(source);
        }
    }
}
