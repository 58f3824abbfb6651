namespace Peft.Clip.Loading;

/// <summary>The checkpoint layouts the loader reads; all map onto the same OpenAI-named module tree.</summary>
public enum CheckpointFormat
{
    /// <summary>OpenAI's distributed TorchScript archives (RN50.pt, ViT-B-16.pt, ...).</summary>
    OpenAiTorchScript,
    /// <summary>A state dict saved with torch.save (OpenAI or open_clip names; a nested "state_dict" is unwrapped).</summary>
    TorchStateDict,
    /// <summary>A single safetensors file with OpenAI / open_clip names.</summary>
    SafeTensors,
    /// <summary>A Hugging Face CLIPModel folder: config.json + model.safetensors (or pytorch_model.bin, or shards).</summary>
    HuggingFaceFolder,
}
