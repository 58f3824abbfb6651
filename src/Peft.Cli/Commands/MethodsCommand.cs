using System.CommandLine;
using System.Reflection;
using Peft.Core;
using Peft.Host.Plugins;

namespace Peft.Cli.Commands;

/// <summary><c>peft methods</c>: the installed adaptation methods with their options and defaults.</summary>
public static class MethodsCommand
{
    public static Command Create()
    {
        var plugins = new Option<string[]>("--plugins") { Description = "Extra plugin folders to load", AllowMultipleArgumentsPerToken = true };
        var command = new Command("methods", "List the installed adaptation methods, their options and defaults.") { plugins };
        command.SetAction(parse =>
        {
            var catalog = MethodCatalog.Load([.. parse.GetValue(plugins) ?? [], .. MethodCatalog.FoldersFromEnvironment()]);
            foreach (var m in catalog.Methods)
            {
                Console.WriteLine($"{m.Name}  —  {m.Description}");
                if (m.IsEncoderMethod)
                    Console.WriteLine("  tier: encoder — trains inside the frozen towers on image batches; its test features are computed per cell " +
                                      "by its adapted towers (not the feature cache)");
                Console.WriteLine("  options (defaults; presets below replace them for their dataset, options in the experiment file replace both):");
                var defaults = m.DefaultOptions();
                var docs = OptionDocs.For(m.OptionsType);
                foreach (var p in m.OptionsType.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
                {
                    Console.WriteLine($"    {MethodOptionsBinder.Camel(p.Name),-22} {Format(p.GetValue(defaults))}");
                    if (docs.TryGetValue(p.Name, out var doc))
                        foreach (var line in Wrap(doc, 92)) Console.WriteLine($"        {line}");
                }
                Console.WriteLine(m.Augmentation is { } t
                    ? $"  training transform: {t.Describe()}  [{t.Source}]"
                    : $"  training transform: none declared (reads no augmented views; {TrainingAugmentation.Fallback.Name} if it asks)");
                foreach (var preset in m.Presets)
                    Console.WriteLine($"  preset {preset.Dataset}: {Entries(preset)}  [{preset.Source}]");
                foreach (var rules in m.AsPublished)
                    Console.WriteLine($"  as-published {rules.Dataset}: {Entries(rules)}  [{rules.Source}]");
                Console.WriteLine();
            }
            if (catalog.Methods.Count == 0) Console.WriteLine("no methods installed (plugins folder: " + MethodCatalog.BuiltInFolder + ")");
            return 0;
        });
        return command;
    }

    /// <summary>A preset's values as <c>option=value</c>, lists as <c>[a, b]</c>.</summary>
    static string Entries(OptionPreset preset) => string.Join(", ", preset.Options.Select(o =>
    {
        var items = preset.Values.Where(kv => kv.Key.StartsWith(o + ":", StringComparison.OrdinalIgnoreCase)).Select(kv => kv.Value).ToList();
        return $"{o}={(items.Count > 0 ? "[" + string.Join(", ", items) + "]" : preset.Values[o])}";
    }));

    /// <summary>Greedy word wrap of one paragraph.</summary>
    static IEnumerable<string> Wrap(string text, int width)
    {
        var line = new System.Text.StringBuilder();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                yield return line.ToString();
                line.Clear();
            }
            if (line.Length > 0) line.Append(' ');
            line.Append(word);
        }
        if (line.Length > 0) yield return line.ToString();
    }

    /// <summary>A default as the experiment file writes it; "not set" (null or empty: the description says what that means) as (none).</summary>
    static string Format(object? value) => value switch
    {
        null or "" => "(none)",
        string s => s,
        System.Collections.IEnumerable e => "[" + string.Join(", ", e.Cast<object>()) + "]",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
