namespace Peft.Core.Prompting;

/// <summary>How a <see cref="PromptLearner"/> builds its context (CoOp's TRAINER.COOP.* settings).</summary>
public interface IPromptContextSettings
{
    /// <summary>Number of learned context vectors when <see cref="CtxInit"/> is empty.</summary>
    int NCtx { get; }

    /// <summary>A phrase whose token embeddings initialise the context (its word count is then the context length); empty = random N(0, 0.02²).</summary>
    string CtxInit { get; }

    /// <summary>One context per class (CSC) instead of one shared.</summary>
    bool ClassSpecificContext { get; }

    /// <summary>Where the class name goes: end, middle or front.</summary>
    string ClassTokenPosition { get; }
}

/// <summary>The optimisation a <see cref="PromptTrainer"/> runs (Dassl's SGD on the context, batches, class chunks).</summary>
public interface IPromptTrainingSettings
{
    /// <summary>Mini-batch size (Dassl DATALOADER.TRAIN_X.BATCH_SIZE).</summary>
    int BatchSize { get; }

    /// <summary>Classes per text-tower pass; the gradient is exact whatever the chunk (see <see cref="PromptTrainer.Step"/>).</summary>
    int ClassChunk { get; }

    /// <summary>SGD momentum (Dassl OPTIM.MOMENTUM).</summary>
    double Momentum { get; }

    /// <summary>SGD weight decay (Dassl OPTIM.WEIGHT_DECAY).</summary>
    double WeightDecay { get; }
}
