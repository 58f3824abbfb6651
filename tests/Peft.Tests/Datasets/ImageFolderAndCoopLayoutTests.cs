using Peft.Data.Randomness;
using System.Text.Json;
using Peft.Data.Datasets;

namespace Peft.Tests.Datasets;

public class ImageFolderAndCoopLayoutTests() : DatasetTreeTests("peft-imagefolder-")
{
    [Fact]
    public void SplitMix64MatchesTheReferenceSequence()
    {
        // Vigna's splitmix64.c seeded with 0: first outputs 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4.
        var rng = new SplitMix64(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, rng.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, rng.NextUInt64());
    }

    [Fact]
    public void Fnv1a64MatchesTheReferenceValues()
    {
        Assert.Equal(0xcbf29ce484222325UL, ImageFolderReader.Fnv1a64(""));
        Assert.Equal(0xaf63dc4c8601ec8cUL, ImageFolderReader.Fnv1a64("a"));
    }

    [Fact]
    public void SplitFolderLayout()
    {
        Image("train/golden_retriever/1.jpg");
        Image("train/golden_retriever/2.png");
        Image("train/cat/3.jpg");
        Text("train/cat/notes.txt", "not an image");
        Image("val/cat/4.jpg");
        Image("test/golden_retriever/5.jpg");
        Image("test/cat/6.jpg");
        var ds = new ImageFolderReader().Read(Dir);
        Assert.Equal("imagefolder", ds.Name);
        Assert.Equal(["cat", "golden retriever"], ds.ClassNames);
        Assert.Equal((3, 1, 2), (ds.Train.Count, ds.Val.Count, ds.Test.Count));
        AssertItem(ds.Train[0], "train/cat/3.jpg", 0, "cat");
        AssertItem(ds.Train[2], "train/golden_retriever/2.png", 1, "golden_retriever");
        AssertItem(ds.Test[1], "test/golden_retriever/5.jpg", 1, "golden_retriever");
        Assert.Equal(Dir, ds.ImageRoot);
        Assert.Equal(["a photo of a {}."], ds.Templates);
    }

    [Fact]
    public void SplitFolderLayoutRefusesTestClassesMissingFromTrain()
    {
        Image("train/cat/1.jpg");
        Image("test/dog/2.jpg");
        var e = Fails(() => new ImageFolderReader().Read(Dir));
        Assert.Contains("'dog' of test/", e.Message);
    }

    [Fact]
    public void FlatLayoutSplitsEachClass50_20_30()
    {
        for (int i = 0; i < 10; i++) Image($"cat/{i:D2}.jpg");
        for (int i = 0; i < 20; i++) Image($"dog/{i:D2}.jpg");
        var ds = new ImageFolderReader(new ImageFolderOptions(Seed: 7)).Read(Dir);
        Assert.Equal(["cat", "dog"], ds.ClassNames);
        Assert.Equal(5 + 10, ds.Train.Count);
        Assert.Equal(2 + 4, ds.Val.Count);
        Assert.Equal(3 + 6, ds.Test.Count);
        Assert.Equal(5, ds.Train.Count(i => i.Label == 0));
        Assert.Equal(30, ds.Train.Concat(ds.Val).Concat(ds.Test).Select(i => i.ImagePath).Distinct().Count());

        // Exactly the documented procedure.
        var cat = Enumerable.Range(0, 10).Select(i => $"{i:D2}.jpg").ToArray();
        var rng = new SplitMix64(7UL ^ ImageFolderReader.Fnv1a64("cat"));
        for (int i = cat.Length - 1; i > 0; i--)
        {
            int j = (int)(rng.NextUInt64() % (ulong)(i + 1));
            (cat[i], cat[j]) = (cat[j], cat[i]);
        }
        Assert.Equal(cat[..5].Select(f => "cat/" + f), ds.Train.Where(i => i.Label == 0).Select(i => i.ImagePath));
        Assert.Equal(cat[5..7].Select(f => "cat/" + f), ds.Val.Where(i => i.Label == 0).Select(i => i.ImagePath));

        // Deterministic; another seed gives another split; a class's split does not depend on other classes.
        var again = new ImageFolderReader(new ImageFolderOptions(Seed: 7)).Read(Dir);
        Assert.Equal(ds.Train, again.Train);
        var other = new ImageFolderReader(new ImageFolderOptions(Seed: 8)).Read(Dir);
        Assert.NotEqual(ds.Train.Select(i => i.ImagePath), other.Train.Select(i => i.ImagePath));
        Directory.Delete(Temp("cat"), true);
        var dogsOnly = new ImageFolderReader(new ImageFolderOptions(Seed: 7)).Read(Dir);
        Assert.Equal(ds.Train.Where(i => i.Label == 1).Select(i => i.ImagePath), dogsOnly.Train.Select(i => i.ImagePath));
    }

    [Fact]
    public void FlatLayoutRoundsHalfToEvenLikePython()
    {
        // n = 5: round(2.5) = 2 train, round(1.0) = 1 val, 2 test (CoOp's read_and_split_data with Python's round).
        for (int i = 0; i < 5; i++) Image($"a/{i}.jpg");
        var ds = new ImageFolderReader().Read(Dir);
        Assert.Equal((2, 1, 2), (ds.Train.Count, ds.Val.Count, ds.Test.Count));
    }

    [Fact]
    public void FlatLayoutCustomRatiosAndTooSmallClasses()
    {
        for (int i = 0; i < 4; i++) Image($"big/{i}.jpg");
        for (int i = 0; i < 2; i++) Image($"small/{i}.jpg");
        var ds = new ImageFolderReader(new ImageFolderOptions(TrainRatio: 0.5, ValRatio: 0)).Read(Dir);
        Assert.Empty(ds.Val);
        Assert.Equal((3, 3), (ds.Train.Count, ds.Test.Count));
        var e = Fails(() => new ImageFolderReader().Read(Dir));
        Assert.Contains("class 'small' has 2 images", e.Message);
        Assert.Throws<ArgumentException>(() => new ImageFolderReader(new ImageFolderOptions(TrainRatio: 0.9, ValRatio: 0.2)).Read(Dir));
    }

    [Fact]
    public void ClassNamesTxtOverridesFolderNames()
    {
        Text("classnames.txt", "n01 tench fish\nn02 goldfish\nn03 not present\n");
        for (int i = 0; i < 4; i++) { Image($"n02/{i}.jpg"); Image($"n01/{i}.jpg"); }
        var ds = new ImageFolderReader(new ImageFolderOptions(ValRatio: 0.25, TrainRatio: 0.5)).Read(Dir);
        Assert.Equal(["tench fish", "goldfish"], ds.ClassNames);
        Assert.All(ds.Train.Where(i => i.Label == 0), i => Assert.Equal("tench fish", i.ClassName));
        Image("n04/0.jpg");
        var e = Fails(() => new ImageFolderReader().Read(Dir));
        Assert.Equal(Temp("classnames.txt"), e.File);
        Assert.Contains("n04", e.Message);
    }

    void CoopLayout(object descriptor, (string, int, string)[] train, (string, int, string)[] test, string imageDir = "images")
    {
        Text("synth/dataset.json", JsonSerializer.Serialize(descriptor));
        Split("synth/split.json", train, [], test, imageRoot: $"synth/{imageDir}");
    }

    [Fact]
    public void CoopLayoutDataset()
    {
        CoopLayout(new { name = "synth_shapes", classnames = new[] { "red_circle", "blue square" }, templates = new[] { "a render of a {}.", "a {}." },
                image_dir = "images", split_file = "split.json" },
            train: [("red_circle/0.png", 0, "red_circle"), ("blue square/0.png", 1, "blue square")],
            test: [("blue square/1.png", 1, "blue square")]);
        var reader = DatasetRegistry.Detect(Temp("synth"));
        Assert.Equal("coop_layout", reader.Name);
        var ds = reader.Read(Temp("synth"));
        Assert.Equal("synth_shapes", ds.Name);
        Assert.Equal(["red circle", "blue square"], ds.ClassNames);
        Assert.Equal(["a render of a {}.", "a {}."], ds.Templates);
        Assert.Equal(Temp("synth/images"), ds.ImageRoot);
        Assert.Equal((2, 0, 1), (ds.Train.Count, ds.Val.Count, ds.Test.Count));
        AssertItem(ds.Test[0], "blue square/1.png", 1, "blue square");
    }

    [Fact]
    public void CoopLayoutClassListIsAuthoritative()
    {
        CoopLayout(new { name = "s", classnames = new[] { "a", "b" } },
            train: [("a/0.png", 0, "a"), ("b/0.png", 1, "B")], test: []);
        var e = Fails(() => new CoopLayoutReader().Read(Temp("synth")));
        Assert.Equal(Temp("synth/split.json"), e.File);
        Assert.Contains("train[1]", e.Message);
        Assert.Contains("'B' disagrees with 'b'", e.Message);

        CoopLayout(new { name = "s", classnames = new[] { "a", "b" } },
            train: [("a/0.png", 0, "a"), ("b/0.png", 1, "b")], test: [("c/0.png", 2, "c")]);
        e = Fails(() => new CoopLayoutReader().Read(Temp("synth")));
        Assert.Contains("test[0]", e.Message);
        Assert.Contains("label 2 is outside the 2 classes", e.Message);

        CoopLayout(new { name = "s", classnames = new[] { "a", "b", "c" } },
            train: [("a/0.png", 0, "a"), ("b/0.png", 1, "b")], test: [("c/0.png", 2, "c")]);
        e = Fails(() => new CoopLayoutReader().Read(Temp("synth")));
        Assert.Contains("2 'c'", e.Message);
        Assert.Contains("no training items", e.Message);
    }

    [Fact]
    public void CoopLayoutDescriptorErrors()
    {
        Text("synth/dataset.json", "{\"classnames\": [\"a\"], \"image_dir\": \"../elsewhere\"}");
        var e = Fails(() => new CoopLayoutReader().Read(Temp("synth")));
        Assert.Equal(Temp("synth/dataset.json"), e.File);
        Assert.Contains("image_dir", e.Message);

        Text("synth/dataset.json", "{\"classnames\": [\"a\"], \"templates\": [\"a photo\"]}");
        Assert.Contains("templates[0]", Fails(() => new CoopLayoutReader().Read(Temp("synth"))).Message);

        Text("synth/dataset.json", "{\"name\": \"x\"}");
        Assert.Contains("classnames", Fails(() => new CoopLayoutReader().Read(Temp("synth"))).Message);

        Text("synth/dataset.json", "{\"classnames\": [\"a\"],");
        Assert.Contains("not valid JSON", Fails(() => new CoopLayoutReader().Read(Temp("synth"))).Message);
    }

    [Fact]
    public void CoopLayoutTestOnly()
    {
        CoopLayout(new { classnames = new[] { "a", "b" } }, train: [], test: [("b/0.png", 1, "b")]);
        var ds = new CoopLayoutReader().Read(Temp("synth"));
        Assert.True(ds.IsTestOnly);
        Assert.Equal("synth", ds.Name); // folder name when dataset.json has none
        Assert.Equal(["a photo of a {}."], ds.Templates);
    }
}
