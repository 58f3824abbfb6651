using static TorchSharp.torch;

namespace Peft.Core.Prompting;

/// <summary>
/// CoOp's prompt learner (KaiyangZhou/CoOp trainers/coop.py <c>PromptLearner</c>; KgCoOp's is the same): learned context vectors, a frozen prefix (the SOS
/// embedding) and a frozen suffix (class-name tokens, ".", EOT, padding) from the placeholder prompts
/// "X X … X {classname}." (or "{ctxInit} {classname}."), and the EOT index of each prompt.
/// </summary>
/// <remarks>
/// The official code concatenates per class for the middle/front positions; here every position is the "end"
/// layout [SOS][ctx][suffix] re-ordered by a fixed per-class position permutation (one gather), which gives the
/// same rows and the same gradients. The suffix is cut so that the sequence ends at the longest prompt's EOT
/// (<see cref="SequenceLength"/> = max EOT index + 1): the text tower's mask is causal, so the pooled features are
/// unchanged.
/// </remarks>
public sealed class PromptLearner : IDisposable
{
    readonly IFrozenTextEncoder _encoder;
    readonly ITextTokenizer _tokenizer;
    readonly bool _truncate;
    readonly IReadOnlyList<string> _classNames;
    readonly Tensor _prefix;   // [C, 1, W]
    readonly Tensor _suffix;   // [C, L - 1 - M, W]
    readonly Tensor? _order;   // [C, L] source position of every output position (null for "end")

    /// <summary>The learned context: [M, W] shared, or [C, M, W] class-specific. A leaf tensor requiring grad.</summary>
    public Tensor Ctx { get; }
    public int NCtx { get; }
    public int NumClasses { get; }
    public string Position { get; }
    /// <summary>Placeholder-tokenized prompts [C, ContextLength] (int64).</summary>
    public Tensor Tokens { get; }
    /// <summary>EOT index of every prompt [C] (argmax of <see cref="Tokens"/>).</summary>
    public Tensor EotIndex { get; }
    /// <summary>Tokens of each class name (without the "."), as the official <c>name_lens</c>.</summary>
    public int[] NameLengths { get; }
    /// <summary>Length of the assembled sequences: max EOT index + 1 when truncated, else the context length.</summary>
    public int SequenceLength { get; }

    /// <summary>The settings the context was built with.</summary>
    public IPromptContextSettings Settings { get; }

    public PromptLearner(IFrozenTextEncoder encoder, ITextTokenizer tokenizer, IReadOnlyList<string> classNames,
        IPromptContextSettings options, Generator generator, bool truncate = true)
        : this(encoder, tokenizer, classNames, options, generator, null, truncate)
    {
    }

    /// <summary>
    /// A learner for <paramref name="classNames"/> around a copy of a trained shared context [M, W] (no randomness): how
    /// CoOp and CoCoOp classify classes they were not trained on (the official evaluation rebuilds the prompt learner
    /// for the new class names and loads the learned context, dropping the class-name token buffers).
    /// </summary>
    public static PromptLearner WithContext(IFrozenTextEncoder encoder, ITextTokenizer tokenizer, IReadOnlyList<string> classNames,
        IPromptContextSettings options, Tensor context, bool truncate = true) =>
        context.dim() == 2
            ? new PromptLearner(encoder, tokenizer, classNames, options, null, context, truncate)
            : throw new ArgumentException("a class-specific context [C, M, W] belongs to its classes and cannot be used for others", nameof(context));

    /// <summary>This learner's context, copied, for other classes (<see cref="WithContext"/>).</summary>
    public PromptLearner ForClasses(IReadOnlyList<string> classNames) => WithContext(_encoder, _tokenizer, classNames, Settings, Ctx, _truncate);

    /// <summary>
    /// The same classes and a copy of this context (shared or class-specific) through another text tower: how a context
    /// trained on a bf16 copy of the tower (<c>precision: bf16</c>) gets its fp32 text features.
    /// </summary>
    public PromptLearner WithEncoder(IFrozenTextEncoder encoder) => new(encoder, _tokenizer, _classNames, Settings, null, Ctx, _truncate);

    /// <summary>The tower this learner encodes through.</summary>
    public IFrozenTextEncoder Encoder => _encoder;

    PromptLearner(IFrozenTextEncoder encoder, ITextTokenizer tokenizer, IReadOnlyList<string> classNames,
        IPromptContextSettings options, Generator? generator, Tensor? context, bool truncate)
    {
        _encoder = encoder;
        _tokenizer = tokenizer;
        _truncate = truncate;
        _classNames = classNames;
        Settings = options;
        NumClasses = classNames.Count;
        Position = options.ClassTokenPosition;
        int width = encoder.TextWidth, length = encoder.ContextLength;
        using var noGrad = no_grad();

        string promptPrefix;
        if (options.CtxInit.Length > 0)
        {
            // Official: ctx_init.replace("_", " "); n_ctx = number of words; vectors = embedding[0, 1 : 1 + n_ctx].
            var init = options.CtxInit.Replace("_", " ");
            NCtx = init.Split(' ').Length;
            using var tokens = tokenizer.TokenizeToTensor([init], length);
            using var embedding = encoder.EmbedTokens(tokens);
            using var vectors = embedding[0].narrow(0, 1, NCtx).to(ScalarType.Float32);
            // The official code keeps one shared context when initialised from a phrase (CSC is ignored there);
            // with classSpecificContext the phrase initialises every class's context.
            Ctx = context?.detach().clone() ?? (options.ClassSpecificContext
                ? vectors.unsqueeze(0).expand(NumClasses, -1, -1).clone()
                : vectors.clone());
            promptPrefix = init;
        }
        else
        {
            NCtx = options.NCtx;
            long[] shape = options.ClassSpecificContext ? [NumClasses, NCtx, width] : [NCtx, width];
            if (context is not null) Ctx = context.detach().clone();
            else
            {
                using var r = randn(shape, generator: generator);
                Ctx = r * 0.02f;  // nn.init.normal_(ctx_vectors, std=0.02)
            }
            promptPrefix = string.Join(" ", Enumerable.Repeat("X", NCtx));
        }
        Ctx.requires_grad_(true);

        var names = classNames.Select(n => n.Replace("_", " ")).ToList();
        NameLengths = names.Select(n => tokenizer.Encode(n).Length).ToArray();
        Tokens = tokenizer.TokenizeToTensor(names.Select(n => promptPrefix + " " + n + ".").ToList(), length);
        EotIndex = Tokens.argmax(-1);
        SequenceLength = truncate ? (int)EotIndex.max().item<long>() + 1 : length;

        using var all = encoder.EmbedTokens(Tokens).to(ScalarType.Float32);
        _prefix = all.narrow(1, 0, 1).clone();
        _suffix = all.narrow(1, 1 + NCtx, SequenceLength - 1 - NCtx).clone();

        if (Position != "end")
        {
            var order = new long[NumClasses, SequenceLength];
            for (int c = 0; c < NumClasses; c++)
            {
                int n = NameLengths[c], m = NCtx, half = m / 2, p = 0;
                order[c, p++] = 0;
                void Take(int from, int count) { for (int i = 0; i < count; i++) order[c, p++] = from + i; }
                if (Position == "middle")
                {
                    Take(1, half);              // ctx[:M/2]
                    Take(1 + m, n);             // class tokens
                    Take(1 + half, m - half);   // ctx[M/2:]
                }
                else
                {
                    Take(1 + m, n);             // class tokens
                    Take(1, m);                 // ctx
                }
                Take(1 + m + n, SequenceLength - 1 - m - n);  // ". EOT pad"
            }
            _order = tensor(order);
        }
    }

    /// <summary>Prompt embeddings [count, SequenceLength, W] of classes start..start+count (differentiable in <see cref="Ctx"/>).</summary>
    public Tensor Assemble(int start, int count) => Assemble(start, count, Ctx);

    /// <summary>
    /// Prompt embeddings [count, SequenceLength, W] of classes start..start+count around the given context [M, W] (shared)
    /// or [C, M, W] (per class) instead of <see cref="Ctx"/>: CoCoOp's image-conditioned context ctx + π(x).
    /// </summary>
    public Tensor Assemble(int start, int count, Tensor context)
    {
        using var scope = NewDisposeScope();
        var ctx = context.dim() == 2
            ? context.unsqueeze(0).expand(count, -1, -1)
            : context.narrow(0, start, count);
        var prompts = cat([_prefix.narrow(0, start, count), ctx, _suffix.narrow(0, start, count)], 1);
        if (_order is not null)
        {
            var index = _order.narrow(0, start, count).unsqueeze(-1).expand(-1, -1, prompts.shape[2]);
            prompts = prompts.gather(1, index);
        }
        return prompts.MoveToOuterDisposeScope();
    }

    /// <summary>Text features [count, E] (float32, not normalised) of classes start..start+count.</summary>
    public Tensor Encode(int start, int count)
    {
        using var scope = NewDisposeScope();
        var prompts = Assemble(start, count);
        return _encoder.EncodeTokenEmbeddings(prompts, EotIndex.narrow(0, start, count)).to(ScalarType.Float32)
            .MoveToOuterDisposeScope();
    }

    /// <summary>Normalised text features of all classes [C, E] without gradient.</summary>
    public Tensor TextFeatures(int classChunk)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        for (int s = 0; s < NumClasses; s += classChunk) parts.Add(Encode(s, Math.Min(classChunk, NumClasses - s)));
        return nn.functional.normalize(cat(parts, 0), dim: -1).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Ctx.Dispose();
        _prefix.Dispose();
        _suffix.Dispose();
        _order?.Dispose();
        Tokens.Dispose();
        EotIndex.Dispose();
    }
}
