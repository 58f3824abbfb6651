namespace Peft.Host.Experiments;

/// <summary>
/// One hyperparameter point of a method: its configuration section (what the method is built from), the bound
/// options record, every option's value as text (logged as <c>method.&lt;option&gt;</c>), and the values of the
/// grid axes at this point (empty when the method has no grid).
/// </summary>
public sealed record GridPoint(
    IReadOnlyDictionary<string, string?> Section,
    object Options,
    IReadOnlyDictionary<string, string> OptionValues,
    IReadOnlyDictionary<string, string> AxisValues);
