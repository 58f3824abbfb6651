using static TorchSharp.torch;

namespace Peft.Methods.Clap;

/// <summary>
/// CLAP's class-adaptive constraint (trainers/adapters.py, CONSTRAINT l2): the penalty
/// mean_c λ_c ‖w_c − t_c‖² added to the cross-entropy, with λ_c fixed before training to zero-shot CLIP's performance
/// on class c — the mean softmax probability of the true class over the class's augmented support features
/// (<c>init_lagrangian_multipliers</c>). Classes where zero-shot is already right are held close to their text
/// prototype; classes where it is wrong are free to move. The official l2 setting keeps λ fixed: its augmented
/// Lagrangian update (<c>outer_step</c>) runs only for a constraint named "adaptative", which no published run uses.
/// </summary>
static class ClassAdaptiveConstraint
{
    /// <summary>
    /// λ [C]: diag(softmax(logits)ᵀ · onehot(labels)) / per-class counts, as <c>init_lagrangian_multipliers</c>
    /// computes it from the zero-shot logits of the pooled augmented support set.
    /// </summary>
    public static Tensor Multipliers(Tensor zeroShotLogits, Tensor labels, int classes)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var oneHot = nn.functional.one_hot(labels, classes).to(ScalarType.Float32);
        var counts = oneHot.sum(dim: 0);   // sum(0) would bind to sum(ScalarType)
        if (counts.eq(0).any().item<bool>())
            throw new InvalidOperationException("clap: every class needs a training image to weigh its constraint");
        var performance = softmax(zeroShotLogits, -1).t().matmul(oneHot).diag() / counts;
        return performance.MoveToOuterDisposeScope();
    }

    /// <summary>The penalty mean_c λ_c ‖w_c − t_c‖² (<c>zero_shot_constraint</c>, l2).</summary>
    public static Tensor Penalty(Tensor prototypes, Tensor zeroShot, Tensor multipliers)
    {
        using var scope = NewDisposeScope();
        var distance = (prototypes - zeroShot).pow(2).sum(-1);
        return (multipliers * distance).mean().MoveToOuterDisposeScope();
    }
}
