using Peft.Clip.Text;
using Peft.Data.Synthetic;
using Xunit.Abstractions;

namespace Peft.Tests.Synthetic;

/// <summary>Captions of the pretraining set, checked on many captions (sampled without drawing the images).</summary>
public class CaptionTests(ITestOutputHelper output)
{
    static readonly SyntheticWorldOptions Options = new() { Seed = 3 };
    const int Count = 20_000;

    /// <summary>Written out here, independently of the generator: a new word in a template must be added on purpose.</summary>
    static readonly HashSet<string> KnownWords =
    [
        // frames
        "a", "an", "photo", "of", "on", "background", "there", "is", "image", "that", "picture", "two", "shapes", "and",
        // positions and relations
        "in", "the", "top", "bottom", "left", "right", "corner", "at", "center", "middle", "to", "above", "below",
        // sizes
        "small", "little", "medium", "large", "big",
        // backgrounds
        "plain", "striped", "dotted", "checkered", "gradient", "noisy",
        // colours and shades
        "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "white", "black", "gray", "cyan",
        "crimson", "scarlet", "navy", "azure", "lime", "olive", "violet", "magenta", "gold", "tan",
        // shapes
        "circle", "square", "triangle", "star", "cross", "ring", "heart", "pentagon", "diamond", "moon",
    ];

    static readonly Lazy<List<(Scene Scene, string Caption)>> Captions = new(() =>
        Enumerable.Range(0, Count).Select(i => SyntheticWorld.PretrainCaption(Options, i)).ToList());

    static string[] Words(string caption) => caption.Split([' ', ',', ':'], StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void Captions_use_only_known_words_and_are_short()
    {
        int longest = 0;
        foreach (var (_, caption) in Captions.Value)
        {
            foreach (var w in Words(caption)) Assert.True(KnownWords.Contains(w), $"unknown word \"{w}\" in \"{caption}\"");
            int tokens = ClipTokenizer.Default.Encode(caption).Length;
            longest = Math.Max(longest, tokens);
            Assert.True(tokens < 30, $"{tokens} tokens: \"{caption}\"");
        }
        output.WriteLine($"longest caption: {longest} BPE tokens (+2 for start/end; CLIP's context is 77)");
        Assert.Equal(KnownWords.Order(StringComparer.Ordinal), SyntheticWorld.Vocabulary);
    }

    [Fact]
    public void Every_word_is_a_whole_word_of_the_clip_vocabulary()
    {
        var split = new List<string>();
        foreach (var word in SyntheticWorld.Vocabulary)
        {
            var ids = ClipTokenizer.Default.Encode(word);
            Assert.Equal(word, ClipTokenizer.Default.Decode(ids).Trim());
            if (ids.Length > 1) split.Add($"{word} ({ids.Length})");
        }
        output.WriteLine(split.Count == 0 ? "every word is one BPE token" : $"words of several BPE tokens: {string.Join(", ", split)}");
        // Class words are single tokens, so a class-name prompt is as simple as it can be.
        foreach (var task in SyntheticWorld.Tasks)
            foreach (var word in task.ClassNames.SelectMany(c => c.Split(' ')))
                Assert.Single(ClipTokenizer.Default.Encode(word));
    }

    [Fact]
    public void Every_class_name_appears_in_captions_but_no_prompt_is_a_whole_caption()
    {
        var captions = Captions.Value.Select(c => " " + c.Caption + " ").ToList();
        var normalized = Captions.Value.Select(c => Normalize(c.Caption)).ToHashSet();
        foreach (var task in SyntheticWorld.Tasks)
            foreach (var name in task.ClassNames)
            {
                int uses = captions.Count(c => c.Contains($" {name} ", StringComparison.Ordinal));
                output.WriteLine($"{task.Name}: \"{name}\" in {uses} of {Count} captions");
                Assert.True(uses >= 10, $"class \"{name}\" of {task.Name} appears in only {uses} captions");
                string prompt = SyntheticWorld.PromptTemplate.Replace("{}", name);
                Assert.DoesNotContain(Normalize(prompt), normalized);
            }
    }

    static string Normalize(string s) => string.Join(' ', Words(s.Replace(".", " ")));

    /// <summary>Shades are named by their own word about 30% of the time, else by their basic colour.</summary>
    [Fact]
    public void Shades_are_named_less_often_than_they_are_seen()
    {
        int shadeObjects = 0, shadeNamed = 0, parentNamed = 0;
        foreach (var (scene, caption) in Captions.Value.Where(c => c.Scene.Objects.Count == 1))
        {
            var o = scene.Objects[0];
            if (!o.Color.IsShade) continue;
            shadeObjects++;
            var words = Words(caption);
            if (words.Contains(o.Color.Name)) shadeNamed++;
            else if (words.Contains(o.Color.Parent!)) parentNamed++;
        }
        double rate = shadeNamed / (double)(shadeNamed + parentNamed);
        output.WriteLine($"single shade objects: {shadeObjects}; named by shade {shadeNamed}, by basic colour {parentNamed} (shade rate {rate:F3})");
        Assert.InRange(rate, 0.26, 0.34);
        Assert.True(shadeNamed + parentNamed > 0.85 * shadeObjects); // colour is usually mentioned
    }

    [Fact]
    public void Captions_describe_their_scene()
    {
        foreach (var (scene, caption) in Captions.Value.Take(3000))
        {
            var words = Words(caption);
            foreach (var o in scene.Objects)
            {
                Assert.Contains(o.Shape.ToString().ToLowerInvariant(), words);
                // Any colour word in the caption belongs to one of the objects (no wrong colours).
            }
            var colorWords = words.Where(w => Palette.All.Any(c => c.Name == w)).ToList();
            var allowed = scene.Objects.SelectMany(o => new[] { o.Color.Name, o.Color.Parent }).ToHashSet();
            Assert.All(colorWords, w => Assert.Contains(w, allowed));
            if (scene.Objects.Count == 2 && words.Contains("left"))
                Assert.True(scene.Objects[0].Centre.X < scene.Objects[1].Centre.X, caption);
            if (scene.Objects.Count == 2 && words.Contains("above"))
                Assert.True(scene.Objects[0].Centre.Y < scene.Objects[1].Centre.Y, caption);
            if (scene.Objects.Count == 2 && words.Contains("right"))
                Assert.True(scene.Objects[0].Centre.X > scene.Objects[1].Centre.X, caption);
            if (scene.Objects.Count == 2 && words.Contains("below"))
                Assert.True(scene.Objects[0].Centre.Y > scene.Objects[1].Centre.Y, caption);
        }
    }

    [Fact]
    public void Every_shape_colour_size_and_background_occurs_in_pretraining()
    {
        var objects = Captions.Value.SelectMany(c => c.Scene.Objects).ToList();
        Assert.Equal(Enum.GetValues<Shape>().Length, objects.Select(o => o.Shape).Distinct().Count());
        Assert.Equal(Palette.All.Count, objects.Select(o => o.Color.Name).Distinct().Count());
        Assert.Equal(3, objects.Select(o => o.Size).Distinct().Count());
        Assert.Equal(Enum.GetValues<BackgroundKind>().Length, Captions.Value.Select(c => c.Scene.Background.Kind).Distinct().Count());
        Assert.All(Captions.Value, c => Assert.Equal(RenderStyle.Filled, c.Scene.Style));
        double two = Captions.Value.Count(c => c.Scene.Objects.Count == 2) / (double)Count;
        Assert.InRange(two, 0.32, 0.38);
    }
}
