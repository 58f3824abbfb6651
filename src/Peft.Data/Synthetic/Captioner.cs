using Peft.Data.Randomness;
namespace Peft.Data.Synthetic;

/// <summary>
/// Compositional English captions of filled-style scenes. The shape is always named; colour, size, position and
/// background are named often but not always, so each word must be learned from its co-occurrence with pixels rather
/// than from a fixed sentence. A shade (crimson, navy, ...) is named by its own word only with probability
/// <c>shadeNameProbability</c> and by its basic colour otherwise, which is what makes the fine-grained task weak
/// (but not impossible) zero-shot. No caption has the form "a photo of a &lt;class&gt;." of the tasks' prompts.
/// </summary>
public static class Captioner
{
    static readonly string[][] SizeWords = [["small", "little"], ["medium"], ["large", "big"]];

    static readonly string[][] PositionPhrases =
    [
        ["in the top left corner"], ["at the top"], ["in the top right corner"],
        ["on the left"], ["in the center", "in the middle"], ["on the right"],
        ["in the bottom left corner"], ["at the bottom"], ["in the bottom right corner"],
    ];

    static readonly string[] BackgroundWords = ["plain", "striped", "dotted", "checkered", "gradient", "noisy"];

    static readonly string[] RelationPhrases = ["to the left of", "to the right of", "above", "below"];

    /// <summary>Words of the sentence frames (everything except the concept words).</summary>
    static readonly string[] FrameWords =
        ["a", "an", "photo", "of", "on", "background", "there", "is", "image", "that", "picture", "two", "shapes", "and"];

    /// <summary>Every word a caption can contain, sorted.</summary>
    public static IReadOnlyList<string> Vocabulary { get; } = SizeWords.SelectMany(w => w)
        .Concat(PositionPhrases.SelectMany(p => p).SelectMany(p => p.Split(' ')))
        .Concat(BackgroundWords).Concat(RelationPhrases.SelectMany(p => p.Split(' '))).Concat(FrameWords)
        .Concat(Palette.All.Select(c => c.Name)).Concat(Enum.GetValues<Shape>().Select(Geometry.Name))
        .Distinct().Order(StringComparer.Ordinal).ToArray();

    public static string SizeWord(SizeClass size) => SizeWords[(int)size][0];

    public static string PositionPhrase(Placement p) => PositionPhrases[(int)p][0];

    public static string BackgroundWord(BackgroundKind kind) => BackgroundWords[(int)kind];

    /// <summary>A caption for a filled-style scene.</summary>
    public static string Caption(Scene scene, SplitMix64 rng, double shadeNameProbability)
    {
        if (scene.Style != RenderStyle.Filled) throw new ArgumentException("only filled-style scenes are captioned (the sketch style is the held-out domain)");
        string bg = $"a {BackgroundWords[(int)scene.Background.Kind]} background";
        if (scene.Objects.Count == 1)
        {
            var o = scene.Objects[0];
            string pos = rng.Pick(PositionPhrases[(int)o.Placement]);
            string NP(double pSize, double pColor) => NounPhrase(o, rng, pSize, pColor, shadeNameProbability);
            return rng.NextInt(8) switch
            {
                0 => $"a photo of {NP(0.5, 1.0)} on {bg}",
                1 => $"{NP(0.5, 0.9)} {pos}",
                2 => NP(0.4, 0.9),
                3 => $"there is {NP(0.5, 0.9)} {pos}",
                4 => $"{NP(0.5, 0.9)} on {bg}",
                5 => $"an image of {NP(0.4, 0.9)} {pos} on {bg}",
                6 => $"a {Geometry.Name(o.Shape)} that is {ColorWord(o.Color, rng, shadeNameProbability)}",
                _ => $"a picture of {NP(0.5, 0.9)}, {pos}",
            };
        }
        else
        {
            var (a, b) = (scene.Objects[0], scene.Objects[1]);
            string rel = RelationPhrases[(int)scene.Relation!.Value];
            string NP(SceneObject o) => NounPhrase(o, rng, 0.3, 0.9, shadeNameProbability);
            return rng.NextInt(4) switch
            {
                0 => $"{NP(a)} {rel} {NP(b)}",
                1 => $"two shapes: {NP(a)} and {NP(b)}",
                2 => $"{NP(a)} {rel} {NP(b)} on {bg}",
                _ => $"a photo of {NP(a)} and {NP(b)}",
            };
        }
    }

    /// <summary>"a [size] [colour] shape" with the right article.</summary>
    static string NounPhrase(SceneObject o, SplitMix64 rng, double pSize, double pColor, double shadeNameProbability)
    {
        var words = new List<string>(4);
        if (rng.Chance(pSize)) words.Add(rng.Pick(SizeWords[(int)o.Size]));
        if (rng.Chance(pColor)) words.Add(ColorWord(o.Color, rng, shadeNameProbability));
        words.Add(Geometry.Name(o.Shape));
        string article = "aeiou".Contains(words[0][0]) ? "an" : "a";
        return article + " " + string.Join(' ', words);
    }

    static string ColorWord(NamedColor c, SplitMix64 rng, double shadeNameProbability) =>
        c.Parent is null || rng.Chance(shadeNameProbability) ? c.Name : c.Parent;
}
