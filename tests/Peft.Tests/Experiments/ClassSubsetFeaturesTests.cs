using Peft.Data.Augmentation;
using Peft.Data.Splits;
using Peft.Host.Methods;
using static TorchSharp.torch;

namespace Peft.Tests.Experiments;

/// <summary>The base / new halves over a cell's features: rows of the half's classes, in order, relabelled; valid outside any dispose scope.</summary>
public sealed class ClassSubsetFeaturesTests
{
    /// <summary>Row i of every split has feature value i and the given label.</summary>
    sealed class Fake(long[] train, long[] val, long[] test) : ICellFeatures
    {
        static Tensor Rows(int n) => arange(n, dtype: ScalarType.Float32).unsqueeze(1).expand(n, 3).contiguous();
        readonly Tensor _train = Rows(train.Length), _val = Rows(val.Length), _test = Rows(test.Length);
        readonly Tensor _views = stack([Rows(train.Length), Rows(train.Length) + 100]);
        public int Dim => 3;
        public Tensor TrainLabels { get; } = tensor(train);
        public Tensor ValLabels { get; } = tensor(val);
        public Tensor TestLabels { get; } = tensor(test);
        public Tensor FullValLabels => ValLabels;
        public Tensor TrainFeatures() => _train;
        public Tensor ValFeatures() => _val;
        public Tensor TestFeatures() => _test;
        public Tensor FullValFeatures() => _val;
        public Tensor TrainViews(int views) => _views.narrow(0, 0, views);
        public Tensor TrainViews(AugmentationSpec augmentation, int views) => TrainViews(views);
        public void Dispose() { }
    }

    [Fact]
    public void Each_half_keeps_its_rows_relabelled_and_outlives_the_scope_that_first_read_it()
    {
        using var all = new Fake(train: [3, 0, 1, 2, 3, 0], val: [0, 3], test: [2, 2, 1, 0, 3]);
        var (b, n) = ClassSubsample.Split([3, 0, 1, 2, 3, 0]);
        using var baseHalf = new ClassSubsetFeatures(all, b);
        using var newHalf = new ClassSubsetFeatures(all, n);
        using (NewDisposeScope())
        {
            // First read inside a method's dispose scope (as methods do): nothing made here may die with the scope.
            Assert.Equal([0L, 1L, 0L], baseHalf.TrainLabels.data<long>().ToArray());
            _ = baseHalf.TrainViews(2);
            _ = newHalf.TestFeatures();
        }
        Assert.Equal([1f, 2f, 5f], baseHalf.TrainFeatures().select(1, 0).data<float>().ToArray());
        Assert.Equal([0L, 1L, 0L], baseHalf.TrainLabels.data<long>().ToArray());
        Assert.Equal([101f, 102f, 105f], baseHalf.TrainViews(2)[1].select(1, 0).data<float>().ToArray());
        Assert.Equal([0L], baseHalf.ValLabels.data<long>().ToArray());
        Assert.Equal([1L, 0L, 1L, 1L], newHalf.TrainLabels.data<long>().ToArray().Concat(newHalf.ValLabels.data<long>().ToArray()));
        Assert.Equal([0f, 1f, 4f], newHalf.TestFeatures().select(1, 0).data<float>().ToArray());
        Assert.Equal([0L, 0L, 1L], newHalf.TestLabels.data<long>().ToArray());
    }
}
