using Microsoft.Extensions.Configuration;
using Peft.Clip.Text;
using Peft.Core;
using Peft.Host.Plugins;
using Peft.Methods.ZeroShot;
using static TorchSharp.torch;

namespace Peft.Tests.Methods;

public class ZeroShotTests
{
    [Fact]
    public void WeightsAreTheNormalisedMeanOfNormalisedTemplateFeatures()
    {
        using var scope = NewDisposeScope();
        using var support = new MethodTestSupport();
        var context = support.Context(["cat", "dog", "red circle"], shots: 1);
        using var classifier = new ZeroShotClip(new ZeroShotOptions { Templates = "ensemble7" }).Fit(context);

        var model = support.Clip.Model;
        var expected = new List<Tensor>();
        foreach (var c in context.Task.ClassNames)
        {
            var prompts = PromptTemplates.ImageNetSelected7.Select(t => t.Replace("{}", c)).ToList();
            var f = nn.functional.normalize(model.EncodeText(ClipTokenizer.Default.TokenizeToTensor(prompts)), dim: -1);
            expected.Add(nn.functional.normalize(f.mean([0]), dim: 0));
        }
        var w = stack(expected);
        Assert.True(classifier.Weights["text_classifier"].allclose(w, 1e-5, 1e-6));

        var image = randn([4, model.EmbedDim], generator: new Generator(3));
        var logits = classifier.Logits(image);
        var manual = nn.functional.normalize(image, dim: -1).matmul(w.t()) * model.LogitScale;
        Assert.True(logits.allclose(manual, 1e-4, 1e-5));
        Assert.Equal(0, classifier.TrainableParameters);
    }

    [Fact]
    public void DatasetTemplateIsTheDefault()
    {
        Assert.Equal("dataset", new ZeroShotOptions().Templates);
        Assert.Equal(80, PromptTemplates.ImageNet80.Count);
    }

    [Fact]
    public void CatalogLoadsThePluginFromThePluginsFolderAndValidatesOptions()
    {
        var catalog = MethodCatalog.Load();
        var descriptor = catalog.Get("zero-shot");
        Assert.Equal(typeof(ZeroShotOptions).FullName, descriptor.OptionsType.FullName);

        IConfiguration Section(params (string, string)[] values) =>
            new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Item1, v.Item2))).Build();
        var unknown = Assert.Throws<MethodOptionsException>(() => descriptor.Create(Section(("tempaltes", "dataset"))));
        Assert.Contains("'tempaltes'", unknown.Message);
        Assert.Contains("templates", unknown.Message);
        var bad = Assert.Throws<MethodOptionsException>(() => descriptor.Create(Section(("templates", "ensemble9"))));
        Assert.Contains("ensemble9", bad.Message);
        Assert.NotNull(descriptor.Create(Section(("templates", "ensemble80"))));
        Assert.Contains("unknown method 'coop-x'", Assert.Throws<ArgumentException>(() => catalog.Get("coop-x")).Message);
    }
}
