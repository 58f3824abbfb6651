using Peft.Data.Datasets;

namespace Peft.Tests.Datasets;

/// <summary>Every refusal of a bad split file, on OxfordPets' split_zhou file; each error names the file and the entry.</summary>
public class SplitFileValidationTests() : DatasetTreeTests("peft-splitcheck-")
{
    string SplitPath => Temp("oxford_pets/split_zhou_OxfordPets.json");

    DatasetFormatException Bad((string, int, string)[] train, (string, int, string)[] val, (string, int, string)[] test)
    {
        Split("oxford_pets/split_zhou_OxfordPets.json", train, val, test);
        Directory.CreateDirectory(Temp("oxford_pets/images"));
        var e = Fails(() => DatasetRegistry.Get("oxford_pets").Read(Dir));
        Assert.Equal(SplitPath, e.File);
        Assert.StartsWith(SplitPath + ": ", e.Message);
        return e;
    }

    static readonly (string, int, string)[] Good = [("a_1.jpg", 0, "a"), ("b_1.jpg", 1, "b")];

    [Theory]
    [InlineData("../secret.jpg")]
    [InlineData("x/../../secret.jpg")]
    [InlineData("x\\..\\..\\secret.jpg")]
    public void PathsLeavingTheImageFolderAreRefused(string path)
    {
        var e = Bad(Good, [(path, 0, "a")], []);
        Assert.Contains("val[0]", e.Message);
        Assert.Contains("'..'", e.Message);
    }

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("\\\\server\\share\\x.jpg")]
    [InlineData("C:/data/x.jpg")]
    public void AbsolutePathsAreRefused(string path)
    {
        var e = Bad(Good, [], [(path, 1, "b")]);
        Assert.Contains("test[0]", e.Message);
        Assert.Contains("absolute", e.Message);
    }

    [Fact]
    public void EmptyPathIsRefused() => Assert.Contains("train[1]: empty image path", Bad([("a.jpg", 0, "a"), ("", 1, "b")], [], []).Message);

    [Fact]
    public void PathsAreNormalised()
    {
        Split("oxford_pets/split_zhou_OxfordPets.json", [("./x//a.jpg", 0, "a"), ("x\\b.jpg", 1, "b")], [], []);
        var ds = DatasetRegistry.Get("oxford_pets").Read(Dir);
        Assert.Equal(["x/a.jpg", "x/b.jpg"], ds.Train.Select(i => i.ImagePath));
    }

    [Fact]
    public void LabelOutsideTheTrainClasses()
    {
        var e = Bad(Good, [], [("c_1.jpg", 2, "c")]);
        Assert.Contains("test[0]", e.Message);
        Assert.Contains("label 2 is outside the 2 classes", e.Message);
    }

    [Fact]
    public void NegativeLabel() => Assert.Contains("val[0]: negative label -1", Bad(Good, [("x.jpg", -1, "a")], []).Message);

    [Fact]
    public void LabelNamedTwoWays()
    {
        var e = Bad(Good, [("a_2.jpg", 0, "a")], [("a_3.jpg", 0, "A")]);
        Assert.Contains("test[0]", e.Message);
        Assert.Contains("label 0 is named 'A' but 'a' at train[0]", e.Message);
    }

    [Fact]
    public void ClassWithoutTrainingItems()
    {
        var e = Bad([("a_1.jpg", 0, "a"), ("c_1.jpg", 2, "c")], [("b_1.jpg", 1, "b")], []);
        Assert.Contains("1 class has no training items: 1 'b'", e.Message);
    }

    [Fact]
    public void GapInLabels()
    {
        var e = Bad([("a_1.jpg", 0, "a"), ("c_1.jpg", 2, "c")], [], []);
        Assert.Contains("label 1", e.Message);
        Assert.Contains("no items at all", e.Message);
    }

    [Fact]
    public void DuplicateEntryWithinASplit()
    {
        var e = Bad([("a_1.jpg", 0, "a"), ("b_1.jpg", 1, "b"), ("./a_1.jpg", 0, "a")], [], []);
        Assert.Contains("train[2]: duplicate entry 'a_1.jpg' (already train[0])", e.Message);
    }

    [Theory]
    [InlineData("{\"train\": [[\"a.jpg\", 0, \"a\"]], \"val\": [], ", "not valid JSON")]
    [InlineData("[]", "expected a JSON object")]
    [InlineData("{\"train\": [[\"a.jpg\", 0, \"a\"]], \"val\": []}", "missing key 'test'")]
    [InlineData("{\"train\": [[\"a.jpg\", 0]], \"val\": [], \"test\": []}", "train[0]: expected [path, label, classname]")]
    [InlineData("{\"train\": [[\"a.jpg\", \"0\", \"a\"]], \"val\": [], \"test\": []}", "train[0]: label must be an integer")]
    [InlineData("{\"train\": [[\"a.jpg\", 0.5, \"a\"]], \"val\": [], \"test\": []}", "train[0]: label must be an integer")]
    [InlineData("{\"train\": [[\"a.jpg\", 0, \"a\"]], \"val\": {}, \"test\": []}", "'val' is a Object")]
    [InlineData("{\"train\": [[7, 0, \"a\"]], \"val\": [], \"test\": []}", "train[0]: image path must be a string")]
    public void MalformedJson(string json, string expected)
    {
        Text("oxford_pets/split_zhou_OxfordPets.json", json);
        var e = Fails(() => DatasetRegistry.Get("oxford_pets").Read(Temp("oxford_pets")));
        Assert.Equal(SplitPath, e.File);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void SplitFileRoundTrips()
    {
        var train = new[] { new DatasetItem("x/a.jpg", 0, "a_b"), new DatasetItem("b.jpg", 1, "c") };
        CoopSplitFile.Write(SplitPath, train, [], [new DatasetItem("d.jpg", 1, "c")]);
        var s = CoopSplitFile.Read(SplitPath);
        Assert.Equal(train, s.Train);
        Assert.Empty(s.Val);
        Assert.Equal([new DatasetItem("d.jpg", 1, "c")], s.Test);
    }
}
