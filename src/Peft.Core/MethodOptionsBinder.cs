using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Peft.Core;

/// <summary>Binds and validates a method's options record from configuration, with errors that name the option.</summary>
public static class MethodOptionsBinder
{
    public static TOptions Bind<TOptions>(string method, IConfiguration? section) where TOptions : class, IMethodOptions, new()
    {
        var options = (TOptions)BindUnvalidated(typeof(TOptions), method, section);
        var problems = options.Validate().ToList();
        if (problems.Count > 0) throw new MethodOptionsException(method, string.Join("; ", problems));
        return options;
    }

    /// <summary>
    /// The options record of type <paramref name="optionsType"/> bound from <paramref name="section"/> without calling
    /// <see cref="IMethodOptions.Validate"/> (callers that report each problem on its own, like the experiment
    /// validation). Unknown options and values that do not convert throw <see cref="MethodOptionsException"/>.
    /// </summary>
    public static IMethodOptions BindUnvalidated(Type optionsType, string method, IConfiguration? section)
    {
        var options = (IMethodOptions)(Activator.CreateInstance(optionsType)
                                       ?? throw new ArgumentException($"{optionsType}: options type without a parameterless constructor"));
        if (section is null) return options;
        var properties = optionsType.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToList();
        var valid = properties.Select(p => p.Name).ToList();
        var unknown = section.GetChildren().Select(c => c.Key)
            .Where(k => !valid.Contains(k, StringComparer.OrdinalIgnoreCase)).ToList();
        if (unknown.Count > 0)
            throw new MethodOptionsException(method,
                $"unknown option{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => $"'{u}'"))}; valid options: {string.Join(", ", valid.Select(Camel))}");
        try
        {
            section.Bind(options, o => o.ErrorOnUnknownConfiguration = true);
            // The binder appends configured items to a collection's default items ([7, 3] + [12, 10] would give
            // [7, 3, 12, 10]); a configured list replaces the default instead.
            foreach (var p in properties)
            {
                if (p.PropertyType == typeof(string) || !typeof(System.Collections.IEnumerable).IsAssignableFrom(p.PropertyType)) continue;
                var child = section.GetSection(p.Name);
                if (child.Exists()) p.SetValue(options, child.Get(p.PropertyType, o => o.ErrorOnUnknownConfiguration = true));
            }
        }
        catch (InvalidOperationException e)
        {
            // The outer message names the option ("... at 'lr' ..."), the inner one the value.
            throw new MethodOptionsException(method, e.InnerException is { } inner ? $"{e.Message} {inner.Message}" : e.Message);
        }
        return options;
    }

    /// <summary>The name users write in experiment files (camelCase of the property).</summary>
    public static string Camel(string property) => char.ToLowerInvariant(property[0]) + property[1..];
}
