using System.Reflection;
using Microsoft.Extensions.Configuration;
using Peft.Core;

namespace Peft.Host.Experiments;

/// <summary>
/// Expands a method's configuration section into hyperparameter points. A JSON array given for an option whose type
/// is a scalar is a grid axis (every value is a point); a list-typed option takes an array as its value, and an array
/// of arrays is an axis of lists. Points are the cartesian product of the axes, the first axis (in option-name order)
/// varying slowest. Every point is bound and validated through <see cref="MethodOptionsBinder"/>; problems are
/// reported with their configuration path.
/// </summary>
public static class HyperparameterGrid
{
    /// <param name="skip">A key of <paramref name="section"/> that is not an option (a variant's <c>method</c>).</param>
    public static IReadOnlyList<GridPoint> Expand(MethodDescriptor method, IConfigurationSection section, List<string> problems, string? skip = null)
    {
        var properties = Properties(method);
        var fixedEntries = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var axes = new List<(string Option, List<IConfigurationSection> Values)>();
        int before = problems.Count;
        foreach (var child in section.GetChildren())
        {
            if (skip is not null && string.Equals(child.Key, skip, StringComparison.OrdinalIgnoreCase)) continue;
            if (!properties.TryGetValue(child.Key, out var property))
            {
                problems.Add($"{child.Path}: unknown option of {method.Name}; valid options: {string.Join(", ", properties.Values.Select(p => MethodOptionsBinder.Camel(p.Name)))}");
                continue;
            }
            var elements = child.GetChildren().ToList();
            bool isList = property.PropertyType != typeof(string) && typeof(System.Collections.IEnumerable).IsAssignableFrom(property.PropertyType);
            bool axis = isList ? elements.Count > 0 && elements.All(e => e.GetChildren().Any()) : elements.Count > 0;
            if (HasObject(child))
                problems.Add($"{child.Path}: {method.Name} option {MethodOptionsBinder.Camel(property.Name)} takes a value or a list of values, not an object ({{…}})");
            else if (!isList && child.Value is null && elements.Count == 0)
                problems.Add($"{child.Path}: empty list; give a value or a list of values to search");
            else if (!isList && elements.Any(e => e.GetChildren().Any()))
                problems.Add($"{child.Path}: {MethodOptionsBinder.Camel(property.Name)} takes one value; a grid is a list of values, not of lists");
            else if (axis)
                axes.Add((child.Key, elements));
            else
                Copy(child, child.Key, fixedEntries);
        }
        if (problems.Count > before) return [];

        var points = new List<GridPoint>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var combination in Product(axes.Select(a => a.Values).ToList()))
        {
            var entries = new Dictionary<string, string?>(fixedEntries, StringComparer.OrdinalIgnoreCase);
            var axisValues = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < axes.Count; i++)
            {
                var element = combination[i];
                Copy(element, axes[i].Option, entries);
                axisValues[MethodOptionsBinder.Camel(properties[axes[i].Option].Name)] = element.Value
                    ?? "[" + string.Join(", ", element.GetChildren().Select(e => e.Value)) + "]";
            }
            var point = Bind(method, section.Path, entries, axisValues, properties, problems, seen);
            if (point is not null) points.Add(point);
        }
        return problems.Count > before ? [] : points;
    }

    /// <summary>The settable options of a method by property name (case-insensitive).</summary>
    internal static Dictionary<string, PropertyInfo> Properties(MethodDescriptor method) =>
        method.OptionsType.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite)
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Binds and validates one point's entries; null (with problems added under <paramref name="path"/>) when invalid.</summary>
    internal static GridPoint? Bind(MethodDescriptor method, string path, Dictionary<string, string?> entries, Dictionary<string, string> axisValues,
        Dictionary<string, PropertyInfo> properties, List<string> problems, HashSet<string> seen)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(entries).Build();
        IMethodOptions options;
        try
        {
            options = MethodOptionsBinder.BindUnvalidated(method.OptionsType, method.Name, config);
        }
        catch (MethodOptionsException e)
        {
            Add(problems, seen, $"{path}: {e.Message[(e.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..]}");
            return null;
        }
        var invalid = false;
        foreach (var problem in options.Validate())
        {
            invalid = true;
            // Options name themselves first ("nCtx must be ≥ 1, got 0"): put that name into the path.
            var first = problem.Split(' ', 2);
            Add(problems, seen, first.Length == 2 && properties.ContainsKey(first[0])
                ? $"{path}:{first[0]}: {first[1]}"
                : $"{path}: {problem}");
        }
        if (invalid) return null;
        var values = properties.Values.ToDictionary(p => MethodOptionsBinder.Camel(p.Name), p => OptionText.Format(p.GetValue(options)), StringComparer.Ordinal);
        return new GridPoint(entries, options, values, axisValues);
    }

    /// <summary>True when the value holds a JSON object anywhere (configuration keys of list elements are numbers; of objects, names).</summary>
    static bool HasObject(IConfigurationSection section) =>
        section.GetChildren().Any(c => !int.TryParse(c.Key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _) || HasObject(c));

    /// <summary>Copies a section (a value, or a subtree such as a list) under <paramref name="key"/>; AsEnumerable skips the section itself.</summary>
    static void Copy(IConfigurationSection section, string key, Dictionary<string, string?> entries)
    {
        if (section.Value is not null) { entries[key] = section.Value; return; }
        foreach (var (k, v) in section.AsEnumerable(makePathsRelative: true))
            if (v is not null) entries[$"{key}:{k}"] = v;
    }

    static void Add(List<string> problems, HashSet<string> seen, string problem)
    {
        if (seen.Add(problem)) problems.Add(problem);
    }

    static IEnumerable<IReadOnlyList<T>> Product<T>(IReadOnlyList<List<T>> axes)
    {
        if (axes.Count == 0) { yield return []; yield break; }
        foreach (var head in axes[0])
            foreach (var tail in Product(axes.Skip(1).ToList()))
                yield return [head, .. tail];
    }
}
