using System.Security.Cryptography;
using System.Text;
using Peft.Clip.Model;

namespace Peft.Features;

/// <summary>
/// SHA-256 of a model's weights as it computes with them (every state-dict entry in ordinal key order: name,
/// dtype, shape, raw bytes). The same weights give the same fingerprint whichever file format they came from;
/// fp32 and bf16 compute give different ones, as their features differ.
/// </summary>
public static class BackboneFingerprint
{
    public static string Of(ClipModel model)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, tensor) in model.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            using var t = tensor.detach().cpu().contiguous();
            sha.AppendData(Encoding.UTF8.GetBytes($"{name}|{t.dtype}|{string.Join(",", t.shape)}\n"));
            if (t.NumberOfElements > 0) sha.AppendData(t.bytes);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
