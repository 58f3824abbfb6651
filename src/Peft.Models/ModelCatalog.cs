using System.Text.RegularExpressions;

namespace Peft.Models;

/// <summary>Where a model named on the command line comes from.</summary>
public abstract record ModelSource(string Name);

/// <summary>One of OpenAI's released CLIP checkpoints (a TorchScript <c>.pt</c> archive).</summary>
/// <param name="Name">The name as in openai/CLIP (<c>ViT-B/16</c>).</param>
/// <param name="Sha256">SHA-256 of the file; also the path segment of its address.</param>
/// <param name="FileName">The file name in the address (<c>ViT-B-16.pt</c>).</param>
public sealed record OpenAiClipSource(string Name, string Sha256, string FileName) : ModelSource(Name)
{
    /// <summary>The address under <paramref name="baseUrl"/>: <c>{base}/{sha256}/{file}</c>, as in clip.py.</summary>
    public Uri Url(Uri baseUrl) => new(ModelCatalog.WithSlash(baseUrl), Sha256 + "/" + FileName);
}

/// <summary>A Hugging Face model repository (<c>openai/clip-vit-base-patch16</c>) at a revision.</summary>
public sealed record HuggingFaceSource(string RepoId, string Revision) : ModelSource(RepoId)
{
    public string Organization => RepoId.Split('/')[0];
    public string Repository => RepoId.Split('/')[1];
}

/// <summary>Thrown for a model name that is neither a known OpenAI CLIP name nor a Hugging Face id.</summary>
public sealed class UnknownModelException(string message) : ArgumentException(message);

/// <summary>The models <c>peft models pull</c> knows, and how a name on the command line is resolved.</summary>
public static partial class ModelCatalog
{
    /// <summary>openai/CLIP's download address (clip/clip.py <c>_MODELS</c>); override with
    /// <c>PEFT_OPENAI_CLIP_BASE_URL</c>.</summary>
    public const string DefaultOpenAiBaseUrl = "https://openaipublic.azureedge.net/clip/models/";

    /// <summary>The OpenAI CLIP checkpoints, from openai/CLIP clip/clip.py <c>_MODELS</c>
    /// (address = <c>{base}/{sha256}/{file}</c>; the SHA-256 is the file's checksum).</summary>
    public static IReadOnlyList<OpenAiClipSource> OpenAi { get; } =
    [
        new("RN50", "afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762", "RN50.pt"),
        new("RN101", "8fa8567bab74a42d41c5915025a8e4538c3bdbe8804a470a72f30b0d94fab599", "RN101.pt"),
        new("RN50x4", "7e526bd135e493cef0776de27d5f42653e6b4c8bf9e0f653bb11773263205fdd", "RN50x4.pt"),
        new("RN50x16", "52378b407f34354e150460fe41077663dd5b39c54cd0bfd2b27167a4a06ec9aa", "RN50x16.pt"),
        new("RN50x64", "be1cfb55d75a9666199fb2206c106743da0f6468c9d327f3e0d0a543a9919d9c", "RN50x64.pt"),
        new("ViT-B/32", "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af", "ViT-B-32.pt"),
        new("ViT-B/16", "5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f", "ViT-B-16.pt"),
        new("ViT-L/14", "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836", "ViT-L-14.pt"),
        new("ViT-L/14@336px", "3035c92b350959924f9f00213499208652fc7ea050643e8b385c2dac08641f02", "ViT-L-14-336px.pt"),
    ];

    /// <summary>Hugging Face ids known to hold CLIP weights in the layout the framework reads (a hint for users;
    /// any <c>org/name</c> id is accepted).</summary>
    public static IReadOnlyList<string> HuggingFaceExamples { get; } =
        ["openai/clip-vit-base-patch32", "openai/clip-vit-base-patch16", "openai/clip-vit-large-patch14"];

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex HuggingFaceIdPattern();

    [GeneratedRegex(@"^(RN\d|ViT-)", RegexOptions.IgnoreCase)]
    private static partial Regex OpenAiLookalike();

    /// <summary>
    /// Resolves a name: an OpenAI name (<c>ViT-B/16</c>; case-insensitive, <c>ViT-B-16</c> also accepted) or a
    /// Hugging Face id <c>org/name</c> (at <paramref name="revision"/>, default <c>main</c>).
    /// </summary>
    /// <exception cref="UnknownModelException">Neither.</exception>
    public static ModelSource Resolve(string name, string? revision = null)
    {
        name = (name ?? "").Trim();
        var openAi = FindOpenAi(name);
        if (openAi is not null) return openAi;
        // "ViT-B/99" has the shape of a Hugging Face id, but it is surely a mistyped OpenAI name.
        if (name.Length > 0 && !OpenAiLookalike().IsMatch(name) && HuggingFaceIdPattern().IsMatch(name)
            && !name.Contains(".."))
            return new HuggingFaceSource(name, string.IsNullOrWhiteSpace(revision) ? "main" : revision.Trim());
        throw new UnknownModelException(UnknownNameMessage(name));
    }

    public static OpenAiClipSource? FindOpenAi(string name)
    {
        foreach (var m in OpenAi)
            if (string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase)
                || string.Equals(m.Name.Replace('/', '-'), name, StringComparison.OrdinalIgnoreCase)
                || string.Equals(Path.GetFileNameWithoutExtension(m.FileName), name, StringComparison.OrdinalIgnoreCase))
                return m;
        return null;
    }

    public static string UnknownNameMessage(string name) =>
        $"Unknown model '{name}'. Known OpenAI CLIP names: {string.Join(", ", OpenAi.Select(m => m.Name))}. " +
        $"Or give a Hugging Face model id of the form org/name (e.g. {string.Join(", ", HuggingFaceExamples)}), " +
        "optionally with --revision (a branch, tag or commit; default main).";

    internal static Uri WithSlash(Uri u) => u.AbsoluteUri.EndsWith('/') ? u : new Uri(u.AbsoluteUri + "/");
}
