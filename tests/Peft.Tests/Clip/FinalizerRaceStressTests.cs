using Peft.Clip.Loading;
using Peft.Tests.Cli;
using Peft.Tests.Host;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Peft.Tests.Clip;

/// <summary>
/// Issue 18, item 6: the intermittent "Expected false to be true ... toFloat" from libtorch during cache fills.
/// TorchSharp turns <c>a + b</c> into <c>add(b, alpha: 1)</c> with a temporary <c>Scalar</c> that nothing references
/// once its handle has been passed to the native call; a garbage collection started by another thread (the cache's
/// decoding workers allocate large pixel buffers) lets the finalizer free the native scalar while libtorch is about to
/// read it as a float (<c>Scalar::toFloat</c> on a freed tag). The encoder must not hand libtorch such scalars.
/// This test runs the image and text towers while another thread forces collections and finalizers without pause.
/// Measured before the fix: the tiny CLIP failed 3 of 400 passes (full collections) and 24 of 1500 (young-generation
/// collections, as here; expected 9 of 600); after it, 0 of 1500 for both models.
/// </summary>
public sealed class FinalizerRaceStressTests(ITestOutputHelper output) : TempDirectory("peft-finalizer-race-")
{
    const int Passes = 600;

    [Fact]
    public void Encoders_give_the_same_features_while_finalizers_run_concurrently()
    {
        // The shipped tiny CLIP (ModifiedResNet: residual adds, attention pool, folded batch norm) and a small ViT
        // (residual adds, QuickGELU).
        var models = new[]
        {
            Path.Combine(PeftProcess.Repository, "data", "models", "tiny-clip.safetensors"),
            RandomClip.Save(Temp("vit.safetensors"), RandomClip.SmallViT, seed: 5),
        };
        foreach (var path in models)
        {
            using var clip = ClipLoader.Load(path);
            var model = clip.Model;
            int r = model.ImageResolution;
            var g = new Generator(7);
            using var images = randn([2, 3, r, r], generator: g);
            using var tokens = randint(1, 400, [2, model.Config.ContextLength], generator: g);
            using var expectedImage = model.EncodeImage(images);
            using var expectedText = model.EncodeText(tokens);

            int failures = 0, wrong = 0;
            string? firstError = null;
            using var stop = new CancellationTokenSource();
            var collector = new Thread(() =>
            {
                while (!stop.IsCancellationRequested)
                {
                    GC.KeepAlive(new byte[100_000]); // large-object allocations, as the decoding workers make
                    GC.Collect(0); // a young-generation collection finds the temporary scalars; cheap, so many per pass
                    GC.WaitForPendingFinalizers();
                }
            }) { IsBackground = true };
            collector.Start();
            try
            {
                for (int i = 0; i < Passes; i++)
                {
                    using var scope = NewDisposeScope();
                    try
                    {
                        if (!model.EncodeImage(images).Equals(expectedImage)) wrong++;
                        if (!model.EncodeText(tokens).Equals(expectedText)) wrong++;
                    }
                    catch (Exception e)
                    {
                        failures++;
                        firstError ??= e.Message;
                    }
                }
            }
            finally
            {
                stop.Cancel();
                collector.Join();
            }
            output.WriteLine($"{Path.GetFileName(path)}: {failures} failed and {wrong} wrong of {Passes} passes{(firstError is null ? "" : $"; first error: {firstError}")}");
            Assert.True(failures == 0 && wrong == 0, $"{Path.GetFileName(path)}: {failures} failed, {wrong} wrong of {Passes}: {firstError}");
        }
    }
}
