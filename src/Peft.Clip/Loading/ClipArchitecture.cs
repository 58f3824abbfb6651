using Peft.Tensors;
namespace Peft.Clip.Loading;

/// <summary>What a checkpoint's image tower is, read from its key names without loading tensors (for planning).</summary>
public static class ClipArchitecture
{
    /// <summary>
    /// True for a ViT image tower, false for a ModifiedResNet, null when it cannot be told without loading the
    /// checkpoint (TorchScript and pickle files: their key names live in the pickle).
    /// </summary>
    public static bool? ImageTowerIsTransformer(string path)
    {
        // A Hugging Face CLIPModel folder: its vision model is always a ViT.
        if (Directory.Exists(path)) return File.Exists(Path.Combine(path, "config.json")) ? true : null;
        if (!File.Exists(path) || !path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) return null;
        try
        {
            var (entries, _, _) = SafeTensorsFile.ReadHeader(path);
            if (entries.Any(e => e.Name.StartsWith("visual.transformer.", StringComparison.Ordinal) || e.Name.StartsWith("vision_model.", StringComparison.Ordinal)))
                return true;
            if (entries.Any(e => e.Name.StartsWith("visual.layer1.", StringComparison.Ordinal))) return false;
            return null;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or TensorFileException)
        {
            return null; // the loader reports a damaged file with its own message
        }
    }

    /// <summary>
    /// Transformer blocks of the (text, image) towers of a safetensors checkpoint, OpenAI or Hugging Face key names (image
    /// 0 for a ModifiedResNet); null when the file cannot tell without loading (TorchScript, pickle, folders, damage).
    /// </summary>
    public static (int Text, int Image)? Blocks(string path)
    {
        if (!File.Exists(path) || !path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) return null;
        try
        {
            var names = SafeTensorsFile.ReadHeader(path).entries.Select(e => e.Name).ToList();
            int Count(string prefix) => names.Where(n => n.StartsWith(prefix, StringComparison.Ordinal))
                .Select(n => n[prefix.Length..].Split('.')[0]).Distinct().Count();
            int text = Count("transformer.resblocks.") + Count("text_model.encoder.layers.");
            int image = Count("visual.transformer.resblocks.") + Count("vision_model.encoder.layers.");
            return text == 0 ? null : (text, image);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or TensorFileException)
        {
            return null;
        }
    }
}
