using Peft.Data.Datasets;

namespace Peft.Tests.Datasets;

/// <summary>ImageNet and its test-only variants, as CoOp's imagenet*.py read them.</summary>
public class ImageNetReaderTests() : DatasetTreeTests("peft-imagenet-")
{
    // classnames.txt lists folders in an order that is not sorted, plus one folder with no images: CoOp labels by the
    // sorted folder list of images/train and only looks names up in the file.
    const string ClassNames = "n01530575 brambling\nn01440764 tench\nn01443537 goldfish\nn09999999 unused class\n";

    void ImageNet()
    {
        Text("imagenet/classnames.txt", ClassNames);
        foreach (var (wnid, n) in new[] { ("n01530575", 2), ("n01440764", 3), ("n01443537", 1) })
            for (int i = 0; i < n; i++)
            {
                Image($"imagenet/images/train/{wnid}/{wnid}_{i}.JPEG");
                Image($"imagenet/images/val/{wnid}/ILSVRC2012_val_{wnid}_{i}.JPEG");
            }
    }

    [Fact]
    public void ImageNetLabelsFollowSortedTrainFolders()
    {
        ImageNet();
        Text("imagenet/images/train/n01440764/.DS_Store", "hidden"); // listdir_nohidden skips it
        var ds = DatasetRegistry.Get("imagenet").Read(Dir);
        Assert.Equal(["tench", "goldfish", "brambling"], ds.ClassNames);
        Assert.Equal(Temp("imagenet/images"), ds.ImageRoot);
        Assert.Equal(6, ds.Train.Count);
        Assert.Equal(6, ds.Test.Count);
        Assert.Same(ds.Test, ds.Val); // CoOp: val = test
        AssertItem(ds.Train[0], "train/n01440764/n01440764_0.JPEG", 0, "tench");
        AssertItem(ds.Train[3], "train/n01443537/n01443537_0.JPEG", 1, "goldfish");
        AssertItem(ds.Test[5], "val/n01530575/ILSVRC2012_val_n01530575_1.JPEG", 2, "brambling");
        Assert.Equal(["a photo of a {}."], ds.Templates);
    }

    [Fact]
    public void ImageNetFolderWithoutClassNameIsAnError()
    {
        ImageNet();
        Image("imagenet/images/train/n02000000/x.JPEG");
        Image("imagenet/images/val/n02000000/y.JPEG");
        var e = Fails(() => DatasetRegistry.Get("imagenet").Read(Dir));
        Assert.Equal(Temp("imagenet/classnames.txt"), e.File);
        Assert.Contains("n02000000", e.Message);
    }

    [Fact]
    public void ImageNetValFoldersMustMatchTrain()
    {
        ImageNet();
        Directory.Delete(Temp("imagenet/images/val/n01443537"), true);
        var e = Fails(() => DatasetRegistry.Get("imagenet").Read(Dir));
        Assert.Equal(Temp("imagenet/images/val"), e.File);
        Assert.Contains("only in train: n01443537", e.Message);
    }

    [Fact]
    public void ImageNetFlatValFolderIsExplained()
    {
        ImageNet();
        Directory.Delete(Temp("imagenet/images/val"), true);
        Image("imagenet/images/val/ILSVRC2012_val_00000001.JPEG");
        var e = Fails(() => DatasetRegistry.Get("imagenet").Read(Dir));
        Assert.Contains("only in train", e.Message);
    }

    [Fact]
    public void ImageNetAUsesItsOwn200ClassLabels()
    {
        Text("imagenet-adversarial/classnames.txt", ClassNames);
        Text("imagenet-adversarial/imagenet-a/README.txt", "ignored");
        Image("imagenet-adversarial/imagenet-a/n01530575/0.000116_digital clock _ digital clock_0.865658.jpg");
        Image("imagenet-adversarial/imagenet-a/n01443537/0.000_a.jpg");
        Image("imagenet-adversarial/imagenet-a/n01443537/0.001_b.jpg");
        var ds = DatasetRegistry.Get("ImageNetA").Read(Dir);
        Assert.Equal("imagenet_a", ds.Name);
        Assert.True(ds.IsTestOnly);
        Assert.Empty(ds.Train);
        Assert.Equal(["goldfish", "brambling"], ds.ClassNames); // sorted wnids, labels 0..; not the ImageNet indices
        Assert.Equal(3, ds.Test.Count);
        AssertItem(ds.Test[2], "n01530575/0.000116_digital clock _ digital clock_0.865658.jpg", 1, "brambling");
        Assert.Equal(Temp("imagenet-adversarial/imagenet-a"), ds.ImageRoot);
    }

    [Fact]
    public void ShiftTargetsMapToImageNetByWnidAsTheOfficialCode()
    {
        // Two classes share a name (ImageNet has such pairs, e.g. two "crane"s): only the wnid tells them apart.
        const string names = "n01530575 crane\nn01440764 tench\nn01443537 crane\n";
        Text("imagenet/classnames.txt", names);
        foreach (var wnid in new[] { "n01530575", "n01440764", "n01443537" })
        {
            Image($"imagenet/images/train/{wnid}/t.JPEG");
            Image($"imagenet/images/val/{wnid}/v.JPEG");
        }
        Text("imagenet-adversarial/classnames.txt", names);
        Image("imagenet-adversarial/imagenet-a/n01530575/a.jpg");
        Image("imagenet-adversarial/imagenet-a/n01443537/b.jpg");
        Text("imagenetv2/classnames.txt", names);
        foreach (var k in new[] { 0, 1, 2 }) Image($"imagenetv2/imagenetv2-matched-frequency-format-val/{k}/a.jpeg");
        var imagenet = DatasetRegistry.Get("imagenet").Read(Dir);
        Assert.Equal(["n01440764", "n01443537", "n01530575"], imagenet.ClassIds);
        var a = DatasetRegistry.Get("imagenet_a").Read(Dir);
        Assert.Equal(["n01443537", "n01530575"], a.ClassIds);
        var v2 = DatasetRegistry.Get("imagenetv2").Read(Dir);
        Assert.Equal(["n01530575", "n01440764", "n01443537"], v2.ClassIds); // line k of classnames.txt

        using (var target = Peft.Host.Experiments.ShiftTarget.Create("imagenet-a", a, imagenet, "imagenet"))
            Assert.Equal([1L, 2L], target.SourceLabels);
        using (var target = Peft.Host.Experiments.ShiftTarget.Create("imagenet-v2", v2, imagenet, "imagenet"))
            Assert.Equal([2L, 0L, 1L], target.SourceLabels);
        // By name the same pair is ambiguous, and refused.
        Assert.Throws<InvalidDataException>(() => Peft.Host.Experiments.ShiftTarget.Create("imagenet-a", a, imagenet.ClassNames, "imagenet"));
    }

    [Fact]
    public void ImageNetRFromItsOwnFolder()
    {
        Text("imagenet-rendition/classnames.txt", ClassNames);
        Image("imagenet-rendition/imagenet-r/n01443537/art_0.jpg");
        Image("imagenet-rendition/imagenet-r/n01440764/cartoon_0.jpg");
        var ds = DatasetRegistry.Get("imagenet-r").Read(Temp("imagenet-rendition"));
        Assert.Equal(["tench", "goldfish"], ds.ClassNames);
        AssertItem(ds.Test[0], "n01440764/cartoon_0.jpg", 0, "tench");
    }

    [Fact]
    public void ImageNetV2FoldersAreClassNameLineNumbers()
    {
        Text("imagenetv2/classnames.txt", ClassNames);
        Image("imagenetv2/imagenetv2-matched-frequency-format-val/0/a.jpeg");
        Image("imagenetv2/imagenetv2-matched-frequency-format-val/2/b.jpeg");
        Image("imagenetv2/imagenetv2-matched-frequency-format-val/2/c.jpeg");
        Directory.CreateDirectory(Temp("imagenetv2/imagenetv2-matched-frequency-format-val/1"));
        Directory.CreateDirectory(Temp("imagenetv2/imagenetv2-matched-frequency-format-val/3"));
        var ds = DatasetRegistry.Get("imagenetv2").Read(Dir);
        // Label k is line k of classnames.txt (file order), as CoOp's `folders = list(classnames.keys())`.
        Assert.Equal(["brambling", "tench", "goldfish", "unused class"], ds.ClassNames);
        Assert.Equal(3, ds.Test.Count);
        AssertItem(ds.Test[0], "0/a.jpeg", 0, "brambling");
        AssertItem(ds.Test[2], "2/c.jpeg", 2, "goldfish");
    }

    [Fact]
    public void ImageNetV2RefusesFoldersBeyondTheClassList()
    {
        Text("imagenetv2/classnames.txt", ClassNames);
        for (int k = 0; k < 4; k++) Image($"imagenetv2/imagenetv2-matched-frequency-format-val/{k}/a.jpeg");
        Image("imagenetv2/imagenetv2-matched-frequency-format-val/4/a.jpeg");
        var e = Fails(() => DatasetRegistry.Get("imagenetv2").Read(Dir));
        Assert.Contains("4", e.Message);
    }

    [Fact]
    public void ImageNetSketchIsNotTakenForImageNet()
    {
        Text("imagenet-sketch/classnames.txt", ClassNames);
        Image("imagenet-sketch/images/n01440764/sketch_0.JPEG");
        Image("imagenet-sketch/images/n01530575/sketch_1.JPEG");
        Assert.Equal("imagenet_sketch", DatasetRegistry.Detect(Temp("imagenet-sketch")).Name);
        var ds = DatasetRegistry.Get("ImageNetSketch").Read(Dir);
        Assert.Equal(["tench", "brambling"], ds.ClassNames);
        AssertItem(ds.Test[1], "n01530575/sketch_1.JPEG", 1, "brambling");
    }

    [Fact]
    public void ClassNamesTxtWithoutNameIsAnError()
    {
        Text("imagenet-sketch/classnames.txt", "n01440764 tench\nn01443537\n");
        Image("imagenet-sketch/images/n01440764/a.jpg");
        var e = Fails(() => DatasetRegistry.Get("imagenet_sketch").Read(Dir));
        Assert.Equal(Temp("imagenet-sketch/classnames.txt"), e.File);
        Assert.Contains("line 2", e.Message);
    }
}
