using System.Reflection;
using System.Runtime.Loader;

namespace Peft.Host.Plugins;

/// <summary>
/// Loads one plugin folder in its own context. Assemblies the host already has (Peft.Core, TorchSharp,
/// Microsoft.Extensions.*, ...) come from the host, so a plugin's <c>IAdaptationMethod</c> and tensors are the
/// host's types; anything else the plugin ships is resolved from its folder.
/// </summary>
sealed class PluginLoadContext(string pluginPath) : AssemblyLoadContext($"plugin:{Path.GetFileNameWithoutExtension(pluginPath)}")
{
    readonly AssemblyDependencyResolver _resolver = new(pluginPath);

    protected override Assembly? Load(AssemblyName name)
    {
        // Shared with the host: whatever the default context can load.
        if (Default.Assemblies.Any(a => AssemblyName.ReferenceMatchesDefinition(a.GetName(), name)) || IsHostAssembly(name))
            return null;
        var path = _resolver.ResolveAssemblyToPath(name);
        return path is null ? null : LoadFromAssemblyPath(path);
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = _resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
    }

    static bool IsHostAssembly(AssemblyName name) =>
        File.Exists(Path.Combine(AppContext.BaseDirectory, name.Name + ".dll"));
}
