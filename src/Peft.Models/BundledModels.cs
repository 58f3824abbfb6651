namespace Peft.Models;

/// <summary>
/// The tiny CLIPs that ship with the program, by name: Peft.Cli's build copies <c>data/models/&lt;name&gt;.safetensors</c>
/// to <c>&lt;program folder&gt;/models/</c>, because the peft .NET tool has no checkout to find them in.
/// </summary>
public static class BundledModels
{
    /// <summary>The ModifiedResNet tiny CLIP (the quickstart's backbone).</summary>
    public const string TinyClip = "tiny-clip";

    /// <summary>The tiny CLIP with a ViT image tower: encoder-level methods need attention blocks in the image tower.</summary>
    public const string TinyClipVit = "tiny-clip-vit";

    public static IReadOnlyList<string> Names { get; } = [TinyClip, TinyClipVit];

    /// <summary><c>&lt;program folder&gt;/models/&lt;name&gt;.safetensors</c> for a bundled name, else null.</summary>
    public static string? PathOf(string name) =>
        Names.Contains(name, StringComparer.Ordinal) ? Path.Combine(AppContext.BaseDirectory, "models", name + ".safetensors") : null;

    /// <summary>
    /// A <c>--model</c> value as a path: a file or folder that exists is taken as given (so a checkpoint named like a
    /// bundled model still wins), else a bundled name is its bundled file, else the value is returned unchanged for
    /// the loader to report.
    /// </summary>
    /// <exception cref="FileNotFoundException">A bundled name whose file is not next to the program.</exception>
    public static string Resolve(string model)
    {
        if (File.Exists(model) || Directory.Exists(model) || PathOf(model) is not { } bundled) return model;
        if (!File.Exists(bundled))
            throw new FileNotFoundException($"'{model}' names a bundled tiny CLIP, but {bundled} is missing (Peft.Cli's build copies it from data/models/)", bundled);
        return bundled;
    }
}
