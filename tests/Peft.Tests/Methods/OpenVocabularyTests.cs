using Peft.Core;
using Peft.Methods.ClipAdapter;
using Peft.Methods.CoCoOp;
using Peft.Methods.CoOp;
using Peft.Methods.KgCoOp;
using Peft.Methods.LinearProbe;
using Peft.Methods.TaskRes;
using Peft.Methods.TipAdapter;
using Peft.Methods.ZeroShot;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

/// <summary>
/// <see cref="IOpenVocabularyClassifier"/>: methods whose classes come from their names classify other classes with their
/// fitted parameters (base-to-new, transfer). Each class's logit depends only on that class's name, so a classifier for
/// the same names must reproduce the fitted logits, and one for a reordered subset must give those columns. Methods with
/// per-class learned weights do not offer it.
/// </summary>
public class OpenVocabularyTests
{
    static readonly string[] Classes = ["red circle", "blue square", "green_triangle", "yellow star"];

    public static TheoryData<string> OpenMethods() => ["zero-shot", "coop", "kgcoop", "cocoop", "clip-adapter"];

    static IAdaptationMethod Method(string name) => name switch
    {
        "zero-shot" => new ZeroShotClip(new ZeroShotOptions()),
        "coop" => new CoOpMethod(new CoOpOptions { NCtx = 4, Epochs = 2, TrainViews = 2 }),
        "kgcoop" => new KgCoOp(new KgCoOpOptions { Epochs = 2, TrainViews = 2 }),
        "cocoop" => new CoCoOp(new CoCoOpOptions { Epochs = 1, TrainViews = 2, PromptsPerPass = 40 }),
        "clip-adapter" => new ClipAdapterMethod(new ClipAdapterOptions { Branch = "both", Epochs = 2, TrainViews = 2 }),
        "linear-probe" => new LinearProbe(new LinearProbeOptions()),
        "tip-adapter" => new TipAdapter(new TipAdapterOptions()),
        "taskres" => new TaskRes(new TaskResOptions { Epochs = 2 }),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(OpenMethods))]
    public void A_classifier_for_other_class_names_keeps_each_class_logit(string name)
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var context = support.Context(Classes, shots: 2);
        using var fitted = Method(name).Fit(context);
        var open = Assert.IsAssignableFrom<IOpenVocabularyClassifier>(fitted);
        var images = randn([6, support.Clip.Model.EmbedDim], generator: new Generator(9));
        var logits = fitted.Logits(images);

        using (var same = open.ForClasses(context.Task)!)
            Assert.True(same.Logits(images).allclose(logits, 1e-5, 1e-5), $"{name}: the same names give other logits");
        // Two classes in another order: their columns of the fitted logits.
        using (var subset = open.ForClasses(context.Task with { ClassNames = [Classes[3], Classes[1]] })!)
        {
            var expected = logits.index_select(1, tensor(new long[] { 3, 1 }));
            Assert.True(subset.Logits(images).allclose(expected, 1e-5, 1e-5), $"{name}: a reordered subset does not give those columns");
        }
        // Unseen names give logits of their own (the text tower reads them), and the fitted classifier still works after.
        using (var other = open.ForClasses(context.Task with { ClassNames = ["purple hexagon", "orange moon", "grey cloud"] })!)
            Assert.Equal(new long[] { 6, 3 }, other.Logits(images).shape);
        Assert.True(fitted.Logits(images).allclose(logits), $"{name}: ForClasses changed the fitted classifier");
    }

    [Theory]
    [InlineData("linear-probe")]
    [InlineData("tip-adapter")]
    [InlineData("taskres")]
    public void Methods_with_per_class_weights_do_not_offer_it(string name)
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        using var fitted = Method(name).Fit(support.Context(Classes, shots: 2, views: 10));
        Assert.False(fitted is IOpenVocabularyClassifier, $"{name} learns per-class weights; it cannot classify unseen classes");
    }

    [Fact]
    public void A_class_specific_context_is_not_moved_to_other_classes()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var context = support.Context(Classes, shots: 1);
        using var fitted = new CoOpMethod(new CoOpOptions { NCtx = 2, Epochs = 1, TrainViews = 2, ClassSpecificContext = true }).Fit(context);
        Assert.Null(((IOpenVocabularyClassifier)fitted).ForClasses(context.Task));
    }
}
