using System.Globalization;
using Peft.Results;

namespace Peft.Host.Experiments;

/// <summary>The params of a cell's child run: the cell, the experiment settings it ran with, and the selected method options.</summary>
public static class CellParams
{
    public static Dictionary<string, string> Of(ExperimentSpec spec, ExperimentCell cell, IReadOnlyDictionary<string, string> options)
    {
        static string Text(int v) => v.ToString(CultureInfo.InvariantCulture);
        var parameters = new Dictionary<string, string>
        {
            [TrackingNames.Dataset] = cell.Dataset, [TrackingNames.Shots] = Text(cell.Shots), [TrackingNames.Seed] = Text(cell.Seed),
            [TrackingNames.Method] = cell.Method, [TrackingNames.Backbone] = spec.Backbone.Model, [TrackingNames.Sampling] = spec.Sampling,
            [TrackingNames.ValShots] = spec.ValShots is int v ? Text(v) : "min(shots,4)", [TrackingNames.TrainViews] = Text(spec.TrainViews),
        };
        if (spec.IsBaseToNew) parameters[ExperimentClasses.Param] = spec.Classes; // only then: other runs keep their params
        if (spec.Methods.FirstOrDefault(m => m.Name == cell.Method) is { } method && method.Descriptor.Name != method.Name)
            parameters[TrackingNames.MethodPlugin] = method.Descriptor.Name;
        foreach (var (option, value) in options) parameters[TrackingNames.MethodOptionPrefix + option] = value;
        return parameters;
    }
}
