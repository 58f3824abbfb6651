namespace Peft.Data.Synthetic;

public enum SizeClass { Small, Medium, Large }

/// <summary>Where a lone object sits: a 3×3 grid of the image.</summary>
public enum Placement { TopLeft, Top, TopRight, Left, Center, Right, BottomLeft, Bottom, BottomRight }

/// <summary>How the first object of a two-object scene relates to the second.</summary>
public enum Relation { LeftOf, RightOf, Above, Below }

public enum BackgroundKind { Plain, Striped, Dotted, Checkered, Gradient, Noisy }

/// <summary>
/// <see cref="Filled"/>: solid (sometimes shaded) shapes on coloured backgrounds — the pretraining style.
/// <see cref="Sketch"/>: grey pencil outlines on paper — used only by the domain-shift task, never in pretraining.
/// </summary>
public enum RenderStyle { Filled, Sketch }

/// <summary>One object as drawn: its concepts (shape, named colour, size, placement) and its exact geometry.</summary>
public sealed record SceneObject(
    Shape Shape, NamedColor Color, Rgb Drawn, SizeClass Size, Placement Placement,
    Vec2 Centre, double Radius, double RotationDegrees, bool Shaded, Vec2 ShadeDirection);

/// <summary>A background: kind, two colours and the pattern's geometry (pixels at the rendered size).</summary>
public sealed record BackgroundSpec(
    BackgroundKind Kind, Rgb Color1, Rgb Color2, double Period, Vec2 Direction, Vec2 Offset, double NoiseAmplitude);

/// <summary>Parameters of the pencil style (only for <see cref="RenderStyle.Sketch"/>).</summary>
public sealed record SketchSpec(
    double Paper, double Ink, double StrokeWidth, double Wobble, bool DoubleStroke, bool Hatching, double HatchSpacing,
    bool RuledLines, double RulePeriod, double RuleOffset);

/// <summary>Everything needed to render one image (plus the per-pixel noise drawn from the image's generator).</summary>
public sealed record Scene(
    RenderStyle Style, IReadOnlyList<SceneObject> Objects, Relation? Relation, BackgroundSpec Background, SketchSpec? Sketch);
