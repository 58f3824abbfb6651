using System.Threading.Channels;
using Peft.Clip.Model;
using static TorchSharp.torch;

namespace Peft.Clip.Inference;

/// <summary>
/// Runs the frozen image tower over many items: worker threads decode and preprocess batch i+1 while libtorch
/// encodes batch i. The caller says how an item becomes normalised pixels and what to do with each batch of
/// features, so the same pipeline serves one-off encoding and the feature cache.
/// </summary>
public sealed class PipelinedImageEncoder(ClipModel model, int batchSize = 32, int workers = 0)
{
    /// <summary>Called after every batch with (items done, items in all).</summary>
    public Action<int, int>? Progress { get; init; }

    /// <summary>
    /// Encodes <paramref name="items"/> in order. <paramref name="prepare"/> returns the normalised pixels of one
    /// item ([3, R, R] float32, R = the model's resolution, flattened) and runs on worker threads;
    /// <paramref name="onBatch"/> receives the items of a batch and their features [B, EmbedDim] (float32; the
    /// tensor is disposed after the call) on the calling thread. An exception from <paramref name="prepare"/>
    /// (e.g. an image that does not decode, naming its file) stops the run and is rethrown as is.
    /// </summary>
    public void Run<T>(IReadOnlyList<T> items, Func<T, float[]> prepare, Action<IReadOnlyList<T>, Tensor> onBatch,
        CancellationToken cancel = default)
    {
        if (batchSize < 1) throw new ArgumentException($"batch size must be at least 1 (got {batchSize})");
        if (items.Count == 0) return;
        int r = model.ImageResolution, pixels = 3 * r * r;
        int parallelism = workers > 0 ? workers : Math.Max(1, Native.ThreadBudget.Current - 1);
        var batches = items.Chunk(batchSize).ToList();
        // Two prepared batches in flight at most: bounded memory, and libtorch never waits on decoding.
        var channel = Channel.CreateBounded<float[]>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var producer = Task.Run(async () =>
        {
            try
            {
                foreach (var batch in batches)
                {
                    var buffer = new float[batch.Length * pixels];
                    Parallel.For(0, batch.Length, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = stop.Token }, i =>
                    {
                        var one = prepare(batch[i]);
                        if (one.Length != pixels)
                            throw new InvalidOperationException($"prepared item has {one.Length} values, expected 3x{r}x{r}");
                        one.CopyTo(buffer, i * pixels);
                    });
                    await channel.Writer.WriteAsync(buffer, stop.Token);
                }
                channel.Writer.Complete();
            }
            catch (AggregateException e) when (e.InnerExceptions.Count >= 1)
            {
                channel.Writer.Complete(e.InnerExceptions[0]);
            }
            catch (Exception e)
            {
                channel.Writer.Complete(e);
            }
        });

        try
        {
            int done = 0;
            foreach (var batch in batches)
            {
                cancel.ThrowIfCancellationRequested();
                float[] buffer;
                try
                {
                    buffer = channel.Reader.ReadAsync(cancel).AsTask().GetAwaiter().GetResult();
                }
                catch (ChannelClosedException e) when (e.InnerException is not null)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                    throw; // unreachable
                }
                using (var scope = NewDisposeScope())
                {
                    var input = tensor(buffer, [batch.Length, 3, r, r]);
                    onBatch(batch, model.EncodeImage(input));
                }
                done += batch.Length;
                Progress?.Invoke(done, items.Count);
            }
        }
        finally
        {
            stop.Cancel();
            try { producer.Wait(); } catch (AggregateException) { }
        }
    }
}
