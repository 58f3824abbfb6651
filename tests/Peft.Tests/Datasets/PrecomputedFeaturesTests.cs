using Peft.Clip.Loading;
using Peft.Data.Datasets;
using Peft.Data.Features;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Tests.Datasets;

public class PrecomputedFeaturesTests() : TempDirectory("peft-features-")
{
    string File1 => Temp("features.safetensors");

    /// <summary>Writes a features file; <paramref name="change"/> may edit the tensors and metadata first.</summary>
    void Write(Action<Dictionary<string, Tensor>, Dictionary<string, string>>? change = null)
    {
        var t = new Dictionary<string, Tensor>
        {
            ["train_features"] = arange(12, ScalarType.Float32).reshape(3, 4),
            ["train_labels"] = tensor(new long[] { 0, 1, 2 }),
            ["val_features"] = ones(2, 4),
            ["val_labels"] = tensor(new long[] { 2, 0 }),
            ["test_features"] = ones(1, 4, ScalarType.Float16),
            ["test_labels"] = tensor(new long[] { 1 }),
            ["text_weights"] = zeros(3, 4),
        };
        var meta = new Dictionary<string, string> { ["classnames"] = "[\"cat\", \"dog\", \"golden retriever\"]", ["backbone"] = "RN50" };
        change?.Invoke(t, meta);
        SafeTensorsFile.Write(File1, t, meta);
        foreach (var x in t.Values) x.Dispose();
    }

    DatasetFormatException Bad(Action<Dictionary<string, Tensor>, Dictionary<string, string>> change)
    {
        Write(change);
        var e = Assert.Throws<DatasetFormatException>(() => PrecomputedFeatures.Load(File1));
        Assert.Equal(File1, e.File);
        return e;
    }

    [Fact]
    public void LoadsAndRoundTrips()
    {
        Write();
        using (var f = PrecomputedFeatures.Load(File1))
        {
            Assert.Equal(["cat", "dog", "golden retriever"], f.ClassNames);
            Assert.Equal(3, f.NumClasses);
            Assert.Equal(4, f.Dim);
            Assert.Equal([3L, 4L], f.TrainFeatures.shape);
            Assert.Equal(11f, f.TrainFeatures[2, 3].item<float>());
            Assert.Equal(new long[] { 2, 0 }, f.ValLabels.data<long>().ToArray());
            Assert.Equal(ScalarType.Float16, f.TestFeatures.dtype);
            Assert.NotNull(f.TextWeights);
            Assert.Equal("RN50", f.Metadata["backbone"]);
            f.Save(Temp("copy.safetensors"));
        }
        using var g = PrecomputedFeatures.Load(Temp("copy.safetensors"));
        Assert.Equal(["cat", "dog", "golden retriever"], g.ClassNames);
        Assert.Equal(new long[] { 0, 1, 2 }, g.TrainLabels.data<long>().ToArray());
        Assert.Equal("RN50", g.Metadata["backbone"]);
    }

    [Fact]
    public void TrainAndValAreOptional()
    {
        Write((t, _) => { t.Remove("train_features"); t.Remove("train_labels"); t.Remove("val_features"); t.Remove("val_labels"); t.Remove("text_weights"); });
        using var f = PrecomputedFeatures.Load(File1);
        Assert.Equal([0L, 4L], f.TrainFeatures.shape);
        Assert.Equal([0L], f.ValLabels.shape);
        Assert.Null(f.TextWeights);
    }

    [Fact]
    public void DimensionsMustAgree() =>
        Assert.Contains("key 'val_features': feature dimension 5 differs from 4 in 'train_features'",
            Bad((t, _) => t["val_features"] = ones(2, 5)).Message);

    [Fact]
    public void LabelsMustMatchRows() =>
        Assert.Contains("key 'train_labels': shape [2] does not match the 3 rows", Bad((t, _) => t["train_labels"] = tensor(new long[] { 0, 1 })).Message);

    [Fact]
    public void LabelsMustBeInt64() =>
        Assert.Contains("key 'test_labels': dtype Int32, expected int64", Bad((t, _) => t["test_labels"] = tensor(new int[] { 1 })).Message);

    [Fact]
    public void LabelsMustBeInRange()
    {
        Assert.Contains("key 'val_labels': label 3 at index 1 is outside [0, 3)", Bad((t, _) => t["val_labels"] = tensor(new long[] { 0, 3 })).Message);
        Assert.Contains("key 'train_labels': label -1 at index 0", Bad((t, _) => t["train_labels"] = tensor(new long[] { -1, 0, 0 })).Message);
    }

    [Fact]
    public void FeaturesMustBe2DFloat()
    {
        Assert.Contains("key 'test_features': shape [4] is not 2-D", Bad((t, _) => t["test_features"] = ones(4)).Message);
        Assert.Contains("key 'train_features': dtype Int64", Bad((t, _) => t["train_features"] = zeros(3, 4, ScalarType.Int64)).Message);
    }

    [Fact]
    public void TextWeightsNeedOneRowPerClass() =>
        Assert.Contains("key 'text_weights': 2 rows but 3 class names", Bad((t, _) => t["text_weights"] = zeros(2, 4)).Message);

    [Fact]
    public void ClassNamesAreRequired()
    {
        Assert.Contains("no 'classnames'", Bad((_, m) => m.Remove("classnames")).Message);
        Assert.Contains("not a JSON array of strings", Bad((_, m) => m["classnames"] = "cat, dog").Message);
        Assert.Contains("is empty", Bad((_, m) => m["classnames"] = "[]").Message);
    }

    [Fact]
    public void PairsAndTestAreRequired()
    {
        Assert.Contains("'val_labels' is missing while 'val_features' is present", Bad((t, _) => t.Remove("val_labels")).Message);
        Assert.Contains("missing key 'test_features'", Bad((t, _) => { t.Remove("test_features"); t.Remove("test_labels"); }).Message);
    }

    [Fact]
    public void CorruptFileNamesTheFile()
    {
        File.WriteAllBytes(File1, [1, 2, 3]);
        var e = Assert.Throws<DatasetFormatException>(() => PrecomputedFeatures.Load(File1));
        Assert.Equal(File1, e.File);
        Assert.Contains("too short", e.Message);
    }
}
