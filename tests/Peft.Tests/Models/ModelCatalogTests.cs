using Peft.Models;

namespace Peft.Tests.Models;

public sealed class ModelCatalogTests : ModelTestBase
{
    [Theory]
    [InlineData("ViT-B/16", "ViT-B/16")]
    [InlineData("vit-b/16", "ViT-B/16")]
    [InlineData("ViT-B-16", "ViT-B/16")]
    [InlineData("ViT-L/14@336px", "ViT-L/14@336px")]
    [InlineData("ViT-L-14-336px", "ViT-L/14@336px")]
    [InlineData("RN50x64", "RN50x64")]
    public void OpenAi_names_resolve(string input, string expected)
    {
        var source = Assert.IsType<OpenAiClipSource>(ModelCatalog.Resolve(input));
        Assert.Equal(expected, source.Name);
    }

    [Fact]
    public void The_table_has_the_nine_models_with_their_sha256_in_the_address()
    {
        Assert.Equal(["RN50", "RN101", "RN50x4", "RN50x16", "RN50x64", "ViT-B/32", "ViT-B/16", "ViT-L/14", "ViT-L/14@336px"],
            ModelCatalog.OpenAi.Select(m => m.Name));
        Assert.All(ModelCatalog.OpenAi, m => Assert.Matches("^[0-9a-f]{64}$", m.Sha256));
        var vitL = ModelCatalog.FindOpenAi("ViT-L/14@336px")!;
        Assert.Equal(
            "https://openaipublic.azureedge.net/clip/models/3035c92b350959924f9f00213499208652fc7ea050643e8b385c2dac08641f02/ViT-L-14-336px.pt",
            vitL.Url(new Uri(ModelCatalog.DefaultOpenAiBaseUrl)).AbsoluteUri);
        Assert.Equal(Path.Combine("/c", "openai", "ViT-L-14@336px.pt"), ModelCache.OpenAiPath("/c", vitL));
    }

    [Theory]
    [InlineData("openai/clip-vit-base-patch16")]
    [InlineData("laion/CLIP-ViT-B-32-laion2B-s34B-b79K")]
    public void Hugging_Face_ids_resolve(string id)
    {
        var source = Assert.IsType<HuggingFaceSource>(ModelCatalog.Resolve(id));
        Assert.Equal(id, source.RepoId);
        Assert.Equal("main", source.Revision);
        Assert.Equal("v1", Assert.IsType<HuggingFaceSource>(ModelCatalog.Resolve(id, "v1")).Revision);
    }

    [Theory]
    [InlineData("ViT-B/99")]
    [InlineData("RN200")]
    [InlineData("clip")]
    [InlineData("")]
    [InlineData("a/b/c")]
    [InlineData("../etc")]
    [InlineData("org/..")]
    public void Unknown_names_list_the_known_ones_and_the_hf_form(string name)
    {
        var ex = Assert.Throws<UnknownModelException>(() => ModelCatalog.Resolve(name));
        Assert.Contains("ViT-B/32", ex.Message);
        Assert.Contains("RN50x16", ex.Message);
        Assert.Contains("ViT-L/14@336px", ex.Message);
        Assert.Contains("org/name", ex.Message);
    }

    [Fact]
    public async Task Pulling_an_unknown_name_makes_no_request()
    {
        using var server = new TestHttpServer(_ => TestResponse.Text(500));
        using var puller = Puller(openAiBase: server.BaseUrl, hfEndpoint: server.BaseUrl);

        await Assert.ThrowsAsync<UnknownModelException>(() => puller.PullAsync("ViT-H/14"));

        Assert.Empty(server.Requests);
    }

    [Fact]
    public void Cache_root_prefers_PEFT_HOME_then_XDG_then_home()
    {
        Dictionary<string, string?> env = new() { ["PEFT_HOME"] = "/p", ["XDG_CACHE_HOME"] = "/x", ["HOME"] = "/h" };
        Assert.Equal("/p/models", ModelCache.DefaultRoot(k => env.GetValueOrDefault(k)));
        env["PEFT_HOME"] = null;
        Assert.Equal("/x/peft/models", ModelCache.DefaultRoot(k => env.GetValueOrDefault(k)));
        env["XDG_CACHE_HOME"] = "";
        Assert.Equal("/h/.cache/peft/models", ModelCache.DefaultRoot(k => env.GetValueOrDefault(k)));
    }

    [Fact]
    public void Options_from_the_environment()
    {
        Dictionary<string, string?> env = new()
        {
            ["PEFT_HOME"] = "/p",
            ["HF_ENDPOINT"] = "http://127.0.0.1:8080",
            ["HF_TOKEN"] = "hf_abc",
            ["PEFT_OPENAI_CLIP_BASE_URL"] = "http://127.0.0.1:8081/mirror/",
        };
        var o = ModelPullOptions.FromEnvironment(null, k => env.GetValueOrDefault(k));
        Assert.Equal("/p/models", o.CacheRoot);
        Assert.Equal("http://127.0.0.1:8080/", o.HuggingFaceEndpoint.AbsoluteUri);
        Assert.Equal("hf_abc", o.HuggingFaceToken);
        Assert.Equal("http://127.0.0.1:8081/mirror/", o.OpenAiBaseUrl.AbsoluteUri);
        Assert.Equal(Path.GetFullPath("/elsewhere"), ModelPullOptions.FromEnvironment("/elsewhere", k => env.GetValueOrDefault(k)).CacheRoot);

        var defaults = ModelPullOptions.FromEnvironment(null, k => k == "HOME" ? "/h" : null);
        Assert.Equal("https://huggingface.co/", defaults.HuggingFaceEndpoint.AbsoluteUri);
        Assert.Equal(ModelCatalog.DefaultOpenAiBaseUrl, defaults.OpenAiBaseUrl.AbsoluteUri);
        Assert.Null(defaults.HuggingFaceToken);

        env["HF_ENDPOINT"] = "ftp://nope";
        Assert.Throws<ArgumentException>(() => ModelPullOptions.FromEnvironment(null, k => env.GetValueOrDefault(k)));
    }

    [Fact]
    public void List_shows_complete_and_partial_downloads()
    {
        Directory.CreateDirectory(Path.Combine(Root, "openai"));
        File.WriteAllBytes(Path.Combine(Root, "openai", "ViT-B-16.pt"), new byte[1000]);
        File.WriteAllBytes(Path.Combine(Root, "openai", "RN50.pt.partial"), new byte[300]);
        var hf = Path.Combine(Root, "hf", "openai--clip-vit-base-patch32", "main");
        Directory.CreateDirectory(hf);
        File.WriteAllBytes(Path.Combine(hf, "config.json"), new byte[10]);
        File.WriteAllBytes(Path.Combine(hf, "model.safetensors"), new byte[2000]);

        var list = ModelCache.List(Root);

        Assert.Equal(["RN50", "ViT-B/16", "openai/clip-vit-base-patch32@main"], list.Select(e => e.Name));
        var rn50 = list[0];
        Assert.False(rn50.Complete);
        Assert.Equal(0, rn50.Bytes);
        Assert.Equal(300, rn50.PartialBytes);
        Assert.Equal((1000L, true), (list[1].Bytes, list[1].Complete));
        Assert.Equal((2010L, true, hf), (list[2].Bytes, list[2].Complete, list[2].Path));
        Assert.Empty(ModelCache.List(Path.Combine(Root, "does-not-exist")));
    }
}
