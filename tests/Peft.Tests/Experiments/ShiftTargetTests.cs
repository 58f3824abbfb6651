using System.Text.Json;
using Peft.Core;
using Peft.Data.Datasets;
using Peft.Host.Experiments;
using static TorchSharp.torch;

namespace Peft.Tests.Experiments;

public sealed class ShiftTargetTests
{
    static readonly string[] Source = ["goldfish", "great white shark", "tiger shark", "hammerhead"];

    static ImageDataset Target(string[] classes, int[] testLabels) => new()
    {
        Name = "target", Root = "/data/target", ImageRoot = "/data/target", ClassNames = classes, Templates = ["a photo of a {}."],
        Train = [], Val = [], Test = testLabels.Select((l, i) => new DatasetItem($"{i}.jpg", l, classes[l])).ToList(),
    };

    /// <summary>Logits given per test row: the classifier's scores over the 4 source classes.</summary>
    sealed class Fixed(float[,] logits) : IFeatureClassifier
    {
        public Tensor Logits(Tensor imageFeatures) => tensor(logits).index_select(0, imageFeatures.select(1, 0).to(ScalarType.Int64));
        public long TrainableParameters => 0;
        public IReadOnlyDictionary<string, Tensor> Weights => new Dictionary<string, Tensor>();
        public void Dispose() { }
    }

    [Fact]
    public void ASubsetOfTheClassesIsMappedByNameAndScoredOverThoseClassesOnly()
    {
        // ImageNet-A/R style: two of the four classes, in another order, spelled differently.
        using var target = ShiftTarget.Create("imagenet-r", Target(["Hammerhead", "great_white_shark"], [0, 1, 1]), Source, "imagenet");
        Assert.Equal([3L, 1L], target.SourceLabels);
        // Row 0: best overall is goldfish (not in the target), best of {hammerhead, white shark} is hammerhead → right.
        // Row 1: white shark beats hammerhead → right. Row 2: tiger shark is best overall, hammerhead beats white shark → wrong.
        var logits = new float[,] { { 9, 1, 0, 2 }, { 0, 5, 9, 4 }, { 0, 1, 9, 2 } };
        using var features = tensor(new float[,] { { 0 }, { 1 }, { 2 } });
        var e = target.Evaluate(new Fixed(logits), features);
        Assert.Equal(2.0 / 3, e.Top1, 12);
        Assert.Equal([1.0, 0.5], e.PerClass);
    }

    [Fact]
    public void TheSameClassesGiveThePlainArgmax()
    {
        using var target = ShiftTarget.Create("v2", Target(Source, [0, 1, 2, 3]), Source, "imagenet");
        Assert.Equal([0L, 1L, 2L, 3L], target.SourceLabels);
        var logits = new float[,] { { 9, 1, 0, 2 }, { 0, 5, 9, 4 }, { 0, 1, 9, 2 }, { 0, 0, 0, 1 } };
        using var features = tensor(new float[,] { { 0 }, { 1 }, { 2 }, { 3 } });
        Assert.Equal(0.75, target.Evaluate(new Fixed(logits), features).Top1, 12);
    }

    [Fact]
    public void AClassTheSourceLacksOrAnAmbiguousSourceIsAnErrorNamingThem()
    {
        var e = Assert.Throws<InvalidDataException>(() => ShiftTarget.Create("sketch", Target(["goldfish", "axolotl"], [0]), Source, "imagenet"));
        Assert.Equal("shift target sketch (/data/target): 1 of its 2 classes are not classes of imagenet: 'axolotl'", e.Message);
        var twice = Assert.Throws<InvalidDataException>(() => ShiftTarget.Create("a", Target(["crane"], [0]), ["crane", "Crane"], "imagenet"));
        Assert.Contains("source dataset imagenet has two classes named 'Crane'", twice.Message);
    }

    /// <summary>
    /// ImageNet-A and -R as the host reads them (CoOp's folder layouts, 1000 wnid folders for ImageNet, 200 for each
    /// variant) must map onto the ImageNet indices of the official evaluations: hendrycks/natural-adv-examples'
    /// <c>indices_in_1k</c> and hendrycks/imagenet-r's <c>imagenet_r_mask</c> (fixture from tools/reference/make_shift_fixtures.py).
    /// </summary>
    [Theory]
    [InlineData("imagenet_a", "imagenet-adversarial/imagenet-a", "imagenet_a_indices")]
    [InlineData("imagenet_r", "imagenet-rendition/imagenet-r", "imagenet_r_indices")]
    public void ImageNetAAndRMapOntoTheOfficialIndexLists(string type, string imageDir, string fixtureKey)
    {
        using var fixture = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "shift", "imagenet_ar.json")));
        var wnids = fixture.RootElement.GetProperty("all_wnids").EnumerateArray().Select(e => e.GetString()!).ToList();
        var official = fixture.RootElement.GetProperty(fixtureKey).EnumerateArray().Select(e => e.GetInt64()).ToList();
        var root = Directory.CreateTempSubdirectory("peft-imagenet-ar-").FullName;
        try
        {
            var classNames = string.Join("\n", wnids.Select((w, i) => $"{w} class {i}"));
            void File_(string rel, string text = "x")
            {
                var path = Path.Combine(root, rel);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, text);
            }
            File_("imagenet/classnames.txt", classNames);
            // Written in reverse order: labels must come from the sorted folder names, not from the file system.
            foreach (var w in Enumerable.Reverse(wnids)) { File_($"imagenet/images/train/{w}/a.jpg"); File_($"imagenet/images/val/{w}/b.jpg"); }
            var variantFolder = imageDir.Split('/')[0];
            File_($"{variantFolder}/classnames.txt", classNames);
            File_($"{imageDir}/README.txt");
            foreach (var i in Enumerable.Reverse(official)) File_($"{imageDir}/{wnids[(int)i]}/c.jpg");

            var imagenet = DatasetRegistry.Get("imagenet").Read(root);
            var variant = DatasetRegistry.Get(type).Read(root);
            Assert.Equal(1000, imagenet.ClassNames.Count);
            Assert.Equal(200, variant.ClassNames.Count);
            using var target = ShiftTarget.Create(type, variant, imagenet, "imagenet");
            Assert.Equal(official, target.SourceLabels);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
