using Peft.Core.Encoders;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace Peft.Clip.Model;

/// <summary>
/// One checkpointed segment (a transformer block with its input transform) as a custom autograd function: forward runs
/// it without recording and keeps only its input; backward runs it again with recording from that input (replaying the
/// dropout generator's state) and back-propagates the incoming gradient through it. That second, inner backward
/// accumulates the gradients of the segment's trainable tensors (deltas, prompts) as an ordinary backward would, and
/// the input's gradient is returned to the outer graph — PyTorch's reentrant <c>torch.utils.checkpoint</c>.
/// </summary>
sealed class BlockCheckpoint : SingleTensorFunction<BlockCheckpoint>
{
    public override string Name => nameof(BlockCheckpoint);

    sealed record Segment(Func<Tensor, Tensor> Run, Generator? Generator, Tensor? RngState);

    /// <summary>The output of <paramref name="run"/>(<paramref name="input"/>) with its activations recomputed in backward.
    /// <paramref name="anchor"/> (a tensor that requires grad) makes the output require grad even when neither the input nor
    /// anything the function sees as an input does (the first block under LoRA: only its deltas are trainable).</summary>
    public static Tensor Run(Tensor input, Func<Tensor, Tensor> run, BlockCheckpointing checkpointing, Tensor anchor) =>
        // The state outlives the caller's dispose scopes (towers encode inside their own): backward disposes it.
        apply(input, new Segment(run, checkpointing.Generator, checkpointing.Generator?.get_state().DetachFromDisposeScope()), anchor);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var input = (Tensor)vars[0];
        var segment = (Segment)vars[1];
        ctx.save_for_backward([input]);
        ctx.save_data("segment", segment);
        return segment.Run(input);
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor gradOutput)
    {
        var segment = (Segment)ctx.get_data("segment");
        Tensor inputGrad;
        using (var scope = NewDisposeScope())
        {
            var saved = ctx.get_saved_variables()[0];
            var now = segment.Generator?.get_state();
            if (segment.RngState is not null) segment.Generator!.set_state(segment.RngState);
            using (enable_grad())
            {
                var input = saved.detach().requires_grad_(true);
                var output = segment.Run(input);
                output.backward([gradOutput]);
                inputGrad = input.grad is { } g ? g.detach().clone() : zeros_like(saved);
            }
            if (now is not null) segment.Generator!.set_state(now);
            segment.RngState?.Dispose();
            // Handed to the engine after this returns: it must outlive this scope (the caller's scope or the GC frees it).
            inputGrad.MoveToOuterDisposeScope();
        }
        var anchorGrad = zeros(1);
        return [inputGrad, null!, anchorGrad];
    }
}
