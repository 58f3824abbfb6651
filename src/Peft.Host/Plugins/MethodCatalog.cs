using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Peft.Core;
using Microsoft.Extensions.Logging;
using Peft.Core.Diagnostics;

namespace Peft.Host.Plugins;

/// <summary>
/// The installed methods: every <see cref="IMethodPlugin"/> found in the plugins output folder
/// (<c>&lt;app&gt;/plugins/*/</c>) and in extra folders (<c>--plugins &lt;dir&gt;</c>), registered through DI.
/// </summary>
public sealed class MethodCatalog
{
    readonly Dictionary<string, MethodDescriptor> _methods;

    public IReadOnlyList<MethodDescriptor> Methods => _methods.Values.OrderBy(m => m.Name, StringComparer.Ordinal).ToList();
    /// <summary>The plugin assemblies that were loaded, for diagnostics.</summary>
    public IReadOnlyList<string> PluginFiles { get; }

    MethodCatalog(Dictionary<string, MethodDescriptor> methods, IReadOnlyList<string> files)
    {
        _methods = methods;
        PluginFiles = files;
    }

    /// <summary>Plugin folders for every command, separated by ':' (an experiment reads it as its "plugins" setting).</summary>
    public const string EnvironmentVariable = "PEFT_PLUGINS";

    /// <summary>The folders <see cref="EnvironmentVariable"/> lists (relative to the current directory).</summary>
    public static IReadOnlyList<string> FoldersFromEnvironment() =>
        (Environment.GetEnvironmentVariable(EnvironmentVariable) ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(f => Path.GetFullPath(f)).ToList();

    /// <summary>The default plugins folder next to the program.</summary>
    public static string BuiltInFolder => Path.Combine(AppContext.BaseDirectory, "plugins");

    public static MethodCatalog Load(IEnumerable<string>? extraFolders = null, bool includeBuiltIn = true)
    {
        var folders = new List<string>();
        if (includeBuiltIn && Directory.Exists(BuiltInFolder)) folders.Add(BuiltInFolder);
        foreach (var f in extraFolders ?? [])
        {
            if (!Directory.Exists(f)) throw new DirectoryNotFoundException($"{f}: plugin folder not found (from --plugins, the experiment's \"plugins\" or {EnvironmentVariable})");
            folders.Add(f);
        }
        var services = new ServiceCollection();
        var files = new List<string>();
        foreach (var dll in folders.SelectMany(PluginAssemblies).DistinctBy(Path.GetFileName))
        {
            Assembly assembly;
            // An assembly the host already ships (e.g. a plugin a test links in) is the host's; others get their own context.
            bool hostShipped = File.Exists(Path.Combine(AppContext.BaseDirectory, Path.GetFileName(dll)));
            // Before any type is loaded: a plugin built against another major version of Peft.Core is refused by name.
            if (!hostShipped) PluginCompatibility.Check(dll);
            try
            {
                assembly = hostShipped
                    ? System.Runtime.Loader.AssemblyLoadContext.Default.LoadFromAssemblyName(AssemblyName.GetAssemblyName(dll))
                    : new PluginLoadContext(dll).LoadFromAssemblyPath(dll);
            }
            catch (Exception e) when (e is BadImageFormatException or FileLoadException)
            {
                throw new InvalidOperationException($"{dll}: not a loadable plugin assembly ({e.Message})", e);
            }
            var plugins = LoadableTypes(assembly).Where(t => typeof(IMethodPlugin).IsAssignableFrom(t) && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) is not null).ToList();
            foreach (var p in plugins) ((IMethodPlugin)Activator.CreateInstance(p)!).Register(services);
            if (plugins.Count > 0) files.Add(dll);
            PeftLog.For(typeof(MethodCatalog).FullName!).LogDebug("{Dll}: {Count} plugin(s) {Names}{Context}", dll, plugins.Count,
                string.Join(", ", plugins.Select(t => t.Name)), assembly.GetName().Version is { } v ? $", version {v}" : "");
        }
        return FromServices(services, files);
    }

    /// <summary>A catalog of plugins given directly (tests, or hosts that link methods in).</summary>
    public static MethodCatalog From(params IMethodPlugin[] plugins)
    {
        var services = new ServiceCollection();
        foreach (var p in plugins) p.Register(services);
        return FromServices(services, []);
    }

    static MethodCatalog FromServices(ServiceCollection services, IReadOnlyList<string> files)
    {
        using var provider = services.BuildServiceProvider();
        var methods = new Dictionary<string, MethodDescriptor>(StringComparer.OrdinalIgnoreCase);
        foreach (var d in provider.GetServices<MethodDescriptor>())
            if (!methods.TryAdd(d.Name, d))
                throw new InvalidOperationException($"two plugins register a method named '{d.Name}'");
        return new MethodCatalog(methods, files);
    }

    /// <summary>The assemblies of a plugin folder: files directly in it, or one subfolder per plugin.</summary>
    static IEnumerable<string> PluginAssemblies(string folder) =>
        Directory.EnumerateFiles(folder, "*.dll", SearchOption.AllDirectories).Order(StringComparer.Ordinal);

    static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try { return assembly.GetTypes(); }
        catch (ReflectionTypeLoadException e) { return e.Types.Where(t => t is not null)!; } // a dependency of a dependency, not a plugin
    }

    public MethodDescriptor Get(string name) =>
        _methods.TryGetValue(name, out var d) ? d
            : throw new ArgumentException($"unknown method '{name}'; installed: {string.Join(", ", Methods.Select(m => m.Name))}");
}
