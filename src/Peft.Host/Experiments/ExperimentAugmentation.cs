using Microsoft.Extensions.Configuration;
using Peft.Core;

namespace Peft.Host.Experiments;

/// <summary>
/// Reads the experiment's <c>augmentation</c> setting: absent or <c>"official"</c> = each method trains on the views of
/// its own declared transform (<see cref="MethodDescriptor.Augmentation"/>); a transform name (<c>"tip"</c>,
/// <c>"dassl"</c>) = that transform for every method; an object <c>{"coop": "tip"}</c> = per method (the others official).
/// </summary>
public static class ExperimentAugmentation
{
    public const string Official = "official";

    public static (string Setting, IReadOnlyDictionary<string, string> ByMethod) Read(IConfigurationSection section,
        IReadOnlyList<MethodSpec> methods, List<string> problems)
    {
        var names = string.Join(", ", TrainingAugmentation.Named.Select(a => a.Name));
        var byMethod = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var children = section.GetChildren().ToList();
        if (children.Count == 0)
        {
            var value = section.Value is { Length: > 0 } v ? v : Official;
            if (value != Official && TrainingAugmentation.Find(value) is null)
                problems.Add($"augmentation: '{value}' is not one of: {Official}, {names} (or an object of method → transform)");
            return (TrainingAugmentation.Find(value)?.Name ?? value, byMethod);
        }
        foreach (var child in children)
        {
            var method = methods.FirstOrDefault(m => string.Equals(m.Name, child.Key, StringComparison.OrdinalIgnoreCase));
            if (method is null)
            {
                problems.Add($"{child.Path}: '{child.Key}' is not a method of this experiment; methods: {string.Join(", ", methods.Select(m => m.Name))}");
                continue;
            }
            var value = child.Value ?? "";
            if (value == Official) continue;
            if (TrainingAugmentation.Find(value) is not { } t) problems.Add($"{child.Path}: '{value}' is not one of: {Official}, {names}");
            else byMethod[method.Name] = t.Name;
        }
        return (Official, byMethod);
    }
}
