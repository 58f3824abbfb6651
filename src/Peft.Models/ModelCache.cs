using Peft.IO;
namespace Peft.Models;

/// <summary>One model in the cache, as <c>peft models list</c> shows it.</summary>
/// <param name="Name">The name to pull it by (<c>ViT-B/16</c>, <c>openai/clip-vit-base-patch16@main</c>).</param>
/// <param name="Path">The file (OpenAI) or folder (Hugging Face).</param>
/// <param name="Bytes">Size of the complete files.</param>
/// <param name="PartialBytes">Size of unfinished downloads (<c>*.partial</c>) that a pull would resume.</param>
public sealed record CachedModel(string Name, string Path, long Bytes, long PartialBytes, bool Complete);

/// <summary>
/// The folder downloaded models are kept in and its layout:
/// <c>{root}/openai/ViT-B-16.pt</c> and <c>{root}/hf/{org}--{name}/{revision}/{file}</c>, where root is
/// <c>$PEFT_HOME/models</c>, else <c>$XDG_CACHE_HOME/peft/models</c>, else <c>~/.cache/peft/models</c>.
/// </summary>
public static class ModelCache
{
    public const string PartialSuffix = ".partial";

    public static string DefaultRoot(Func<string, string?>? env = null) => PeftHome.Resolve("models", env);

    public static string OpenAiPath(string root, OpenAiClipSource model) =>
        Path.Combine(root, "openai", model.Name.Replace('/', '-') + ".pt");

    public static string HuggingFaceDirectory(string root, HuggingFaceSource model) =>
        Path.Combine(root, "hf", model.Organization + "--" + model.Repository, SafeSegment(model.Revision));

    /// <summary>A revision such as <c>refs/pr/3</c> as one folder name (<c>refs--pr--3</c>).</summary>
    public static string SafeSegment(string revision)
    {
        var s = revision.Replace("/", "--").Replace("\\", "--");
        return s is "." or ".." ? "_" + s : s;
    }

    /// <summary>What the cache holds (complete and partial downloads), sorted by name.</summary>
    public static IReadOnlyList<CachedModel> List(string root)
    {
        var result = new List<CachedModel>();
        var openai = Path.Combine(root, "openai");
        if (Directory.Exists(openai))
        {
            var byName = new Dictionary<string, (long Full, long Partial, string Path, bool Complete)>();
            foreach (var f in new DirectoryInfo(openai).EnumerateFiles())
            {
                bool partial = f.Name.EndsWith(PartialSuffix, StringComparison.Ordinal);
                var fileName = partial ? f.Name[..^PartialSuffix.Length] : f.Name;
                if (!fileName.EndsWith(".pt", StringComparison.Ordinal)) continue;
                var known = ModelCatalog.OpenAi.FirstOrDefault(m => m.Name.Replace('/', '-') + ".pt" == fileName);
                var name = known?.Name ?? fileName[..^3];
                var path = Path.Combine(openai, fileName);
                byName.TryGetValue(name, out var e);
                e.Path = path;
                if (partial) e.Partial += f.Length; else { e.Full += f.Length; e.Complete = true; }
                byName[name] = e;
            }
            result.AddRange(byName.Select(kv => new CachedModel(kv.Key, kv.Value.Path, kv.Value.Full, kv.Value.Partial, kv.Value.Complete)));
        }
        var hf = Path.Combine(root, "hf");
        if (Directory.Exists(hf))
        {
            foreach (var repo in new DirectoryInfo(hf).EnumerateDirectories())
            {
                int sep = repo.Name.IndexOf("--", StringComparison.Ordinal);
                if (sep <= 0) continue;
                var id = repo.Name[..sep] + "/" + repo.Name[(sep + 2)..];
                foreach (var rev in repo.EnumerateDirectories())
                {
                    long full = 0, partial = 0;
                    bool hasWeights = false;
                    foreach (var f in rev.EnumerateFiles("*", SearchOption.AllDirectories))
                    {
                        if (f.Name.EndsWith(PartialSuffix, StringComparison.Ordinal)) partial += f.Length;
                        else full += f.Length;
                        if (f.Name == "model.safetensors") hasWeights = true;
                    }
                    result.Add(new CachedModel($"{id}@{rev.Name}", rev.FullName, full, partial, hasWeights));
                }
            }
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return result;
    }
}
