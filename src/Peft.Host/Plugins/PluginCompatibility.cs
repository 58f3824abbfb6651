using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Peft.Core;

namespace Peft.Host.Plugins;

/// <summary>A plugin built against a Peft.Core this host cannot run it with.</summary>
public sealed class PluginCompatibilityException(string message) : InvalidOperationException(message);

/// <summary>
/// Checks, before any of its types is loaded, which Peft.Core a plugin assembly was compiled against (its assembly
/// reference, read from the metadata without loading the file). The contract is versioned semantically
/// (build/Version.props): a plugin runs on a host whose Peft.Core has the same major version and at least the minor
/// version it was built with. Anything else would fail later with a type-load or missing-method exception, or worse.
/// </summary>
public static class PluginCompatibility
{
    /// <summary>The Peft.Core this host runs (its assembly version: Major.Minor.Patch.0).</summary>
    public static Version HostCoreVersion { get; } = typeof(IMethodPlugin).Assembly.GetName().Version!;

    /// <summary>The Peft.Core version <paramref name="assemblyPath"/> references, or null (none, or not a .NET assembly).</summary>
    public static Version? ReferencedCoreVersion(string assemblyPath)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        try
        {
            if (!pe.HasMetadata) return null;
        }
        catch (BadImageFormatException) { return null; } // not a PE file: the loader says what it is
        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.AssemblyReferences)
        {
            var reference = metadata.GetAssemblyReference(handle);
            if (metadata.StringComparer.Equals(reference.Name, CoreName)) return reference.Version;
        }
        return null;
    }

    static readonly string CoreName = typeof(IMethodPlugin).Assembly.GetName().Name!;

    /// <summary>Throws <see cref="PluginCompatibilityException"/> naming both versions when the plugin cannot run here.</summary>
    public static void Check(string assemblyPath) => Check(assemblyPath, ReferencedCoreVersion(assemblyPath), HostCoreVersion);

    /// <summary>The rule itself: <paramref name="built"/> (null: no reference) against <paramref name="host"/>.</summary>
    public static void Check(string assemblyPath, Version? built, Version host)
    {
        if (built is null) return;
        string b = Format(built), h = Format(host);
        if (built.Major != host.Major)
            throw new PluginCompatibilityException(
                $"{assemblyPath}: built against Peft.Core {b}, but this peft has Peft.Core {h}; a plugin needs the major version " +
                $"it was built with ({built.Major}.x). Rebuild the plugin against Peft.Core {h} (PackageReference Include=\"Peft.Core\" " +
                $"Version=\"{h}\"), or run it with a peft whose Peft.Core is {built.Major}.x.");
        if (built.Minor > host.Minor)
            throw new PluginCompatibilityException(
                $"{assemblyPath}: built against Peft.Core {b}, but this peft has Peft.Core {h}; the plugin may use what {built.Major}.{built.Minor} " +
                $"added. Update peft (dotnet tool update peft) to Peft.Core {built.Major}.{built.Minor} or later, or rebuild the plugin against Peft.Core {h}.");
    }

    static string Format(Version v) => $"{v.Major}.{Math.Max(v.Minor, 0)}.{Math.Max(v.Build, 0)}";
}
