using Peft.Core;

namespace Peft.Host.Experiments;

/// <summary>A method's points for one dataset after presets (<see cref="MethodPresets"/>), the presets applied and a one-line account of them.</summary>
public sealed record DatasetMethodPoints(IReadOnlyList<GridPoint> Points, IReadOnlyList<OptionPreset> Applied, string Description);
