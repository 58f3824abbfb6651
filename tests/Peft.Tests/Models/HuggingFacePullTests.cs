using System.Security.Cryptography;
using System.Text;
using Peft.Models;

namespace Peft.Tests.Models;

/// <summary>Hugging Face folder downloads against a local imitation of the Hub: resolve addresses, LFS redirects
/// to a "CDN" on another port with X-Linked-ETag, git-SHA-1 ETags for small files, missing optional files.</summary>
public sealed class HuggingFacePullTests : ModelTestBase
{
    private static readonly byte[] Weights = Checkpoint(400_000, seed: 3);
    private static readonly byte[] Config = Encoding.UTF8.GetBytes("{\"model_type\": \"clip\", \"projection_dim\": 512}\n");
    private static readonly byte[] Vocab = Encoding.UTF8.GetBytes("{\"a</w>\": 0, \"b</w>\": 1}\n");
    private static readonly byte[] Merges = Encoding.UTF8.GetBytes("#version: 0.2\na b\n");

    private static string GitSha1(byte[] content)
    {
        var header = Encoding.ASCII.GetBytes($"blob {content.Length}\0");
        return Convert.ToHexStringLower(SHA1.HashData([.. header, .. content]));
    }

    /// <summary>A hub for repository <c>openai/clip-test</c> whose weights live on <paramref name="cdn"/>.</summary>
    private static Func<TestRequest, TestResponse> Hub(Func<TestHttpServer> cdn, string revision = "main", string? linkedEtag = null,
        Func<TestRequest, bool>? authorized = null, byte[]? servedConfig = null, bool sameHostCdn = false)
    {
        var prefix = $"/openai/clip-test/resolve/{Uri.EscapeDataString(revision)}/";
        return r =>
        {
            if (sameHostCdn && r.Path == "/cdn/blob") return TestResponse.File(r, Weights);
            if (authorized is not null && !authorized(r))
                return new TestResponse { Status = 401, Headers = new(StringComparer.OrdinalIgnoreCase) { ["X-Error-Code"] = "RepoNotFound" } };
            if (!r.Path.StartsWith(prefix, StringComparison.Ordinal))
                return new TestResponse { Status = 404, Headers = new(StringComparer.OrdinalIgnoreCase) { ["X-Error-Code"] = "RepoNotFound" } };
            var file = r.Path[prefix.Length..];
            var small = file switch { "config.json" => Config, "vocab.json" => Vocab, "merges.txt" => Merges, _ => null };
            var common = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["X-Repo-Commit"] = "c0ffee0000000000000000000000000000000000" };
            if (small is not null)
            {
                common["ETag"] = "\"" + GitSha1(small) + "\"";
                return TestResponse.File(r, file == "config.json" && servedConfig is not null ? servedConfig : small, headers: common);
            }
            if (file == "model.safetensors")
            {
                common["X-Linked-ETag"] = "\"" + (linkedEtag ?? Convert.ToHexStringLower(SHA256.HashData(Weights))) + "\"";
                common["X-Linked-Size"] = Weights.Length.ToString();
                common["ETag"] = common["X-Linked-ETag"];
                return TestResponse.Redirect(sameHostCdn ? "/cdn/blob" : cdn().Url("repos/ab/cd/blob?signature=xyz").AbsoluteUri, 302, common);
            }
            return new TestResponse { Status = 404, Headers = new(StringComparer.OrdinalIgnoreCase) { ["X-Error-Code"] = "EntryNotFound" } };
        };
    }

    [Fact]
    public async Task Folder_download_follows_the_redirect_and_checks_the_linked_etag()
    {
        TestHttpServer? cdn = null;
        cdn = new TestHttpServer(r => TestResponse.File(r, Weights));
        using var _ = cdn;
        using var hub = new TestHttpServer(Hub(() => cdn));
        using var puller = Puller(hfEndpoint: hub.BaseUrl, token: "hf_test");

        var result = await puller.PullAsync("openai/clip-test");

        var folder = Path.Combine(Root, "hf", "openai--clip-test", "main");
        Assert.Equal(folder, result.Path);
        Assert.Equal(["config.json", "merges.txt", "model.safetensors", "vocab.json"], FilesUnder(folder));
        Assert.Equal(Weights, File.ReadAllBytes(Path.Combine(folder, "model.safetensors")));
        Assert.Equal(Config, File.ReadAllBytes(Path.Combine(folder, "config.json")));
        Assert.All(result.Files, f => Assert.True(f.Verified));
        Assert.Equal("c0ffee0000000000000000000000000000000000", result.Commit);

        // The token goes to the hub only, never to the CDN the weights redirect to.
        Assert.All(hub.Requests, r => Assert.Equal("Bearer hf_test", r.Header("Authorization")));
        var cdnRequest = Assert.Single(cdn.Requests);
        Assert.Equal("GET", cdnRequest.Method);
        Assert.Equal("/repos/ab/cd/blob?signature=xyz", cdnRequest.Path);
        Assert.Null(cdnRequest.Header("Authorization"));
        Assert.Contains(hub.Requests, r => r.Method == "HEAD" && r.Path.EndsWith("/preprocessor_config.json"));
        Assert.DoesNotContain(hub.Requests, r => r.Method == "GET" && r.Path.EndsWith("/preprocessor_config.json"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Linked_etag_is_read_even_when_the_redirect_stays_on_the_same_host(bool wrongEtag)
    {
        // A mirror (HF_ENDPOINT) may serve LFS blobs from its own host: the metadata HEAD must stop at the redirect
        // that carries X-Linked-ETag instead of following it to a response without one.
        using var hub = new TestHttpServer(Hub(() => throw new InvalidOperationException("no CDN"), sameHostCdn: true,
            linkedEtag: wrongEtag ? new string('a', 64) : null));
        using var puller = Puller(hfEndpoint: hub.BaseUrl);

        if (wrongEtag)
        {
            await Assert.ThrowsAsync<ChecksumMismatchException>(() => puller.PullAsync("openai/clip-test"));
            return;
        }
        var result = await puller.PullAsync("openai/clip-test");
        var weights = Assert.Single(result.Files, f => f.Path.EndsWith("model.safetensors"));
        Assert.True(weights.Verified);
        Assert.DoesNotContain(hub.Requests, r => r.Method == "HEAD" && r.Path == "/cdn/blob");
        Assert.Contains(hub.Requests, r => r.Method == "GET" && r.Path == "/cdn/blob");
    }

    [Fact]
    public async Task Weights_that_do_not_match_the_linked_etag_are_rejected()
    {
        var wrong = new string('0', 64);
        TestHttpServer? cdn = null;
        cdn = new TestHttpServer(r => TestResponse.File(r, Weights));
        using var _ = cdn;
        using var hub = new TestHttpServer(Hub(() => cdn, linkedEtag: wrong));
        using var puller = Puller(hfEndpoint: hub.BaseUrl);

        var ex = await Assert.ThrowsAsync<ChecksumMismatchException>(() => puller.PullAsync("openai/clip-test"));

        Assert.Equal(wrong, ex.Expected);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Weights)), ex.Actual);
        Assert.Contains("model.safetensors", ex.Message);
        var folder = Path.Combine(Root, "hf", "openai--clip-test", "main");
        Assert.DoesNotContain("model.safetensors", FilesUnder(folder));
        Assert.DoesNotContain("model.safetensors.partial", FilesUnder(folder));
    }

    [Fact]
    public async Task Interrupted_weights_resume_through_the_redirect()
    {
        int cdnCalls = 0;
        TestHttpServer? cdn = null;
        cdn = new TestHttpServer(r =>
            Interlocked.Increment(ref cdnCalls) == 1 ? TestResponse.File(r, Weights, cutAfter: 123_000) : TestResponse.File(r, Weights));
        using var _ = cdn;
        using var hub = new TestHttpServer(Hub(() => cdn));
        using var puller = Puller(hfEndpoint: hub.BaseUrl);

        var result = await puller.PullAsync("openai/clip-test");

        Assert.Equal(Weights, File.ReadAllBytes(Path.Combine(result.Path, "model.safetensors")));
        var cdnRequests = cdn.Requests;
        Assert.Equal(2, cdnRequests.Count);
        Assert.Equal(123_000, cdnRequests[1].RangeStart);
        // The retry went through the hub again (the signed CDN address is not reused).
        Assert.Equal(2, hub.Requests.Count(r => r.Method == "GET" && r.Path.EndsWith("/model.safetensors")));
    }

    [Fact]
    public async Task Second_pull_only_checks_metadata()
    {
        TestHttpServer? cdn = null;
        cdn = new TestHttpServer(r => TestResponse.File(r, Weights));
        using var _ = cdn;
        using var hub = new TestHttpServer(Hub(() => cdn));
        using var puller = Puller(hfEndpoint: hub.BaseUrl);
        await puller.PullAsync("openai/clip-test");
        int hubBefore = hub.Requests.Count, cdnBefore = cdn.Requests.Count;

        var again = await puller.PullAsync("openai/clip-test");

        Assert.All(again.Files, f => Assert.True(f.AlreadyPresent && f.Verified));
        Assert.Equal(cdnBefore, cdn.Requests.Count);
        Assert.All(hub.Requests.Skip(hubBefore), r => Assert.Equal("HEAD", r.Method));
    }

    [Fact]
    public async Task A_changed_small_file_is_detected_by_its_git_sha1_and_downloaded_again()
    {
        TestHttpServer? cdn = null;
        cdn = new TestHttpServer(r => TestResponse.File(r, Weights));
        using var _ = cdn;
        using var hub = new TestHttpServer(Hub(() => cdn));
        using var puller = Puller(hfEndpoint: hub.BaseUrl);
        var folder = Path.Combine(Root, "hf", "openai--clip-test", "main");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), "{\"stale\": true}");

        await puller.PullAsync("openai/clip-test");

        Assert.Equal(Config, File.ReadAllBytes(Path.Combine(folder, "config.json")));
        Assert.Contains(hub.Requests, r => r.Method == "GET" && r.Path.EndsWith("/config.json"));
    }

    [Fact]
    public async Task A_small_file_that_does_not_match_its_git_sha1_etag_is_rejected()
    {
        using var hub = new TestHttpServer(Hub(() => throw new InvalidOperationException("no CDN"),
            servedConfig: Encoding.UTF8.GetBytes("{\"model_type\": \"tampered\"}\n")));
        using var puller = Puller(hfEndpoint: hub.BaseUrl);

        var ex = await Assert.ThrowsAsync<ChecksumMismatchException>(() => puller.PullAsync("openai/clip-test"));

        Assert.Equal("git blob SHA-1", ex.Algorithm);
        Assert.Equal(GitSha1(Config), ex.Expected);
        Assert.EndsWith("config.json", ex.File);
        Assert.Empty(FilesUnder(Root));
    }

    [Fact]
    public async Task Revision_goes_into_the_address_and_the_folder()
    {
        TestHttpServer? cdn = null;
        cdn = new TestHttpServer(r => TestResponse.File(r, Weights));
        using var _ = cdn;
        using var hub = new TestHttpServer(Hub(() => cdn, revision: "refs/pr/7"));
        using var puller = Puller(hfEndpoint: hub.BaseUrl);

        var result = await puller.PullAsync("openai/clip-test", revision: "refs/pr/7");

        Assert.Equal(Path.Combine(Root, "hf", "openai--clip-test", "refs--pr--7"), result.Path);
        Assert.Contains(hub.Requests, r => r.Path == "/openai/clip-test/resolve/refs%2Fpr%2F7/config.json");
    }

    [Fact]
    public async Task Missing_or_private_repository_explains_HF_TOKEN()
    {
        TestHttpServer? cdn = null;
        cdn = new TestHttpServer(r => TestResponse.File(r, Weights));
        using var _ = cdn;
        using var hub = new TestHttpServer(Hub(() => cdn, authorized: r => r.Header("Authorization") == "Bearer right"));
        using var puller = Puller(hfEndpoint: hub.BaseUrl, token: "wrong");

        var ex = await Assert.ThrowsAsync<ModelDownloadException>(() => puller.PullAsync("openai/clip-test"));

        Assert.Contains("HF_TOKEN", ex.Message);
        Assert.Contains("openai/clip-test", ex.Message);
        Assert.Single(hub.Requests); // a 401 is not retried
        Assert.Empty(FilesUnder(Root));

        using var withToken = Puller(hfEndpoint: hub.BaseUrl, token: "right");
        var ok = await withToken.PullAsync("openai/clip-test");
        Assert.Equal(Weights, File.ReadAllBytes(Path.Combine(ok.Path, "model.safetensors")));
    }

    [Fact]
    public async Task Repository_without_safetensors_weights_fails_clearly()
    {
        using var hub = new TestHttpServer(r =>
        {
            if (r.Path.EndsWith("/config.json")) return TestResponse.File(r, Config);
            return new TestResponse { Status = 404, Headers = new(StringComparer.OrdinalIgnoreCase) { ["X-Error-Code"] = "EntryNotFound" } };
        });
        using var puller = Puller(hfEndpoint: hub.BaseUrl);

        var ex = await Assert.ThrowsAsync<ModelDownloadException>(() => puller.PullAsync("someone/old-clip"));

        Assert.Contains("model.safetensors", ex.Message);
        Assert.Equal(404, ex.StatusCode);
    }
}
