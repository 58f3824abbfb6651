using System.Collections.Concurrent;
using Peft.Data.Datasets;

namespace Peft.Tests.Datasets;

public class DatasetCheckerAndRegistryTests() : DatasetTreeTests("peft-check-")
{
    ImageDataset Pets()
    {
        Split("oxford_pets/split_zhou_OxfordPets.json",
            train: [("abyssinian_1.jpg", 0, "abyssinian"), ("abyssinian_2.jpg", 0, "abyssinian"), ("beagle_1.jpg", 1, "beagle")],
            val: [("beagle_2.jpg", 1, "beagle")],
            test: [("abyssinian_3.jpg", 0, "abyssinian"), ("beagle_3.jpg", 1, "beagle")],
            imageRoot: "oxford_pets/images");
        return DatasetRegistry.Get("oxford_pets").Read(Dir);
    }

    [Fact]
    public void CleanDatasetIsOk()
    {
        var ds = Pets();
        var done = new ConcurrentBag<long>();
        var report = DatasetChecker.Check(ds, progress: done.Add);
        Assert.True(report.IsOk);
        Assert.Equal(6, report.FilesChecked);
        Assert.Equal(6, done.Max());
        Assert.Equal(new ClassCountRange(1, "beagle", 2, "abyssinian"), report.TrainPerClass);
        var text = report.ToText();
        Assert.Contains("dataset:     oxford_pets", text);
        Assert.Contains("classes:     2 (abyssinian, beagle)", text);
        Assert.Contains("splits:      train 3, val 1, test 2", text);
        Assert.Contains("train/class: min 1 (beagle), max 2 (abyssinian)", text);
        Assert.Contains("template:    a photo of a {}, a type of pet.", text);
        Assert.Contains("result:      OK", text);
    }

    [Fact]
    public void MissingAndCorruptImagesAreReported()
    {
        var ds = Pets();
        File.Delete(Temp("oxford_pets/images/beagle_2.jpg"));
        File.WriteAllText(Temp("oxford_pets/images/abyssinian_3.jpg"), "this is not a JPEG");
        var report = DatasetChecker.Check(ds, maxParallelism: 2);
        Assert.False(report.IsOk);
        Assert.Equal(2, report.Problems.Count);
        Assert.Equal(new DatasetProblem("missing", Temp("oxford_pets/images/beagle_2.jpg"), "file not found"), report.Problems[0]);
        Assert.Equal("unreadable", report.Problems[1].Kind);
        Assert.Equal(Temp("oxford_pets/images/abyssinian_3.jpg"), report.Problems[1].Path);
        var text = report.ToText();
        Assert.Contains("result:      2 problems (1 missing, 1 unreadable)", text);
        Assert.Contains($"  missing: {Temp("oxford_pets/images/beagle_2.jpg")}: file not found", text);

        // --no-decode: only existence.
        var quick = DatasetChecker.Check(ds, decode: false);
        Assert.Equal(["missing"], quick.Problems.Select(p => p.Kind));
        Assert.Contains("not decoded", quick.ToText());
    }

    [Fact]
    public void ReportListsAtMostTheFirstProblems()
    {
        var ds = Pets();
        foreach (var f in Directory.GetFiles(Temp("oxford_pets/images"))) File.Delete(f);
        var text = DatasetChecker.Check(ds).ToText(maxProblems: 4);
        Assert.Contains("6 problems (6 missing)", text);
        Assert.Contains("... and 2 more", text);
    }

    [Fact]
    public void TrainTestOverlapIsReported()
    {
        Split("oxford_pets/split_zhou_OxfordPets.json", [("a.jpg", 0, "a")], [], [("a.jpg", 0, "a")], imageRoot: "oxford_pets/images");
        var report = DatasetChecker.Check(DatasetRegistry.Get("oxford_pets").Read(Dir));
        Assert.Equal(["overlap"], report.Problems.Select(p => p.Kind));
        Assert.Equal(1, report.FilesChecked);
    }

    [Fact]
    public void ImageNetValIsTestIsNotAnOverlapAndFilesAreCheckedOnce()
    {
        Text("imagenet/classnames.txt", "n01 tench\n");
        Image("imagenet/images/train/n01/a.JPEG");
        Image("imagenet/images/val/n01/b.JPEG");
        var report = DatasetChecker.Check(DatasetRegistry.Detect(Dir).Read(Dir));
        Assert.True(report.IsOk);
        Assert.True(report.ValIsTest);
        Assert.Equal(2, report.FilesChecked);
        Assert.Contains("val 1 (= test, as in CoOp)", report.ToText());
    }

    [Fact]
    public void TestOnlyReport()
    {
        Text("imagenet-rendition/classnames.txt", "n01 tench\n");
        Image("imagenet-rendition/imagenet-r/n01/a.jpg");
        var report = DatasetChecker.Check(DatasetRegistry.Detect(Dir).Read(Dir));
        Assert.Null(report.TrainPerClass);
        Assert.Contains("test-only", report.ToText());
    }

    [Theory]
    [InlineData("oxford_pets", "oxford_pets")]
    [InlineData("OxfordPets", "oxford_pets")]
    [InlineData("oxfordpets", "oxford_pets")]
    [InlineData("DescribableTextures", "dtd")]
    [InlineData("caltech-101", "caltech101")]
    [InlineData("Caltech101", "caltech101")]
    [InlineData("food-101", "food101")]
    [InlineData("FGVCAircraft", "fgvc_aircraft")]
    [InlineData("SUN397", "sun397")]
    [InlineData("Flowers102", "oxford_flowers")]
    [InlineData("ImageNetV2", "imagenetv2")]
    [InlineData("imagenet-sketch", "imagenet_sketch")]
    [InlineData("IMAGENET_A", "imagenet_a")]
    [InlineData("imagenet-rendition", "imagenet_r")]
    [InlineData("ImageFolder", "imagefolder")]
    [InlineData("coop_layout", "coop_layout")]
    public void NamesAndAliases(string alias, string name) => Assert.Equal(name, DatasetRegistry.Get(alias).Name);

    [Fact]
    public void RegistryListsEveryDataset()
    {
        Assert.Equal(["imagenet", "caltech101", "oxford_pets", "stanford_cars", "oxford_flowers", "food101", "fgvc_aircraft", "sun397", "dtd",
            "eurosat", "ucf101", "imagenetv2", "imagenet_sketch", "imagenet_a", "imagenet_r", "imagefolder", "coop_layout",
            "features", "synth_shapes", "synth_fine", "synth_shift"], DatasetRegistry.Names);
        var e = Assert.Throws<ArgumentException>(() => DatasetRegistry.Get("cifar10"));
        Assert.Contains("oxford_pets", e.Message);
    }

    [Fact]
    public void DetectFromDatasetFolderAndFromDataParent()
    {
        Pets();
        Assert.Equal("oxford_pets", DatasetRegistry.Detect(Temp("oxford_pets")).Name);
        Assert.Equal("oxford_pets", DatasetRegistry.Detect(Dir).Name);
        Text("fgvc_aircraft/variants.txt", "A\n");
        Directory.CreateDirectory(Temp("fgvc_aircraft/images"));
        Assert.Equal("fgvc_aircraft", DatasetRegistry.Detect(Temp("fgvc_aircraft")).Name);
        var e = Fails(() => DatasetRegistry.Detect(Dir));
        Assert.Contains("several datasets found (oxford_pets, fgvc_aircraft)", e.Message);
    }

    [Fact]
    public void DetectSplitFileWithoutImagesYet()
    {
        Text("eurosat/split_zhou_EuroSAT.json", "{}");
        Assert.Equal("eurosat", DatasetRegistry.Detect(Temp("eurosat")).Name);
    }

    [Fact]
    public void DetectImageFolderBothLayouts()
    {
        Image("flat/cat/1.jpg");
        Assert.Equal("imagefolder", DatasetRegistry.Detect(Temp("flat")).Name);
        Image("split/train/cat/1.png");
        Directory.CreateDirectory(Temp("split/test/cat"));
        Assert.Equal("imagefolder", DatasetRegistry.Detect(Temp("split")).Name);
    }

    [Fact]
    public void DetectNothing()
    {
        Text("empty/readme.txt", "hello");
        Directory.CreateDirectory(Temp("empty/sub"));
        var e = Fails(() => DatasetRegistry.Detect(Temp("empty")));
        Assert.Contains("--dataset", e.Message);
        Assert.Equal(Temp("does-not-exist"), Fails(() => DatasetRegistry.Detect(Temp("does-not-exist"))).File);
    }
}
