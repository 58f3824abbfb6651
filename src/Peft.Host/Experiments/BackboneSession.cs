using System.Security.Cryptography;
using System.Text;
using Peft.Imaging;
using Peft.Clip.Loading;
using Peft.Clip.Text;
using Peft.Core;
using Peft.Data.Augmentation;
using Peft.Features;

namespace Peft.Host.Experiments;

/// <summary>
/// The frozen CLIP of an experiment, loaded once per invocation, with its feature cache and evaluation transform.
/// <see cref="FeatureCacheKeyFor"/> names the cached features a cell used (tag <c>peft.feature_cache_key</c>): backbone
/// weights, the evaluation transform, the method's training transform and the number of views.
/// </summary>
public sealed class BackboneSession : IDisposable
{
    readonly LoadedClip _clip;
    readonly ExperimentSpec _spec;
    readonly int _batchSize;
    ImageRenderer? _encoderImages;

    public FeatureCache Cache { get; }
    public EvalViewRenderer Eval { get; }
    readonly string _backboneAndEval;
    readonly int _trainViews;
    /// <summary>The model's input resolution (the size of every cached view).</summary>
    public int ImageSize { get; }
    public IFrozenTextEncoder TextEncoder => _clip.Model;
    /// <summary>The towers with their insertion points, for encoder-level methods.</summary>
    public Peft.Core.Encoders.IAdaptableClip Clip => _clip.Model;
    /// <summary>The model itself (its pretrained tensors are fingerprinted around encoder-level fits).</summary>
    public Peft.Clip.Model.ClipModel Model => _clip.Model;
    /// <summary>Pixels and uncached features (encoder-level methods: their adapted towers' features are per cell).</summary>
    public ImageRenderer Images { get; }
    public int EmbedDim => _clip.Model.EmbedDim;
    public ITextTokenizer Tokenizer { get; }
    /// <summary>Called with (images done, images to encode) while the cache encodes missing entries.</summary>
    public Action<int, int>? EncodeProgress { get; set; }

    /// <summary>The towers encoder-tier methods train and are evaluated in: the model itself, or under
    /// <see cref="BackboneSpec.EncoderDtype"/> a copy in that dtype (<see cref="ModelIn"/>).</summary>
    public Peft.Clip.Model.ClipModel EncoderModel => ModelIn(_spec.Backbone.EncoderComputeType);

    /// <summary>The frozen text tower computing in <paramref name="type"/> (a method's <c>precision: bf16</c>; <see cref="ModelIn"/>).</summary>
    public IFrozenTextEncoder TextEncoderIn(TorchSharp.torch.ScalarType type) => ModelIn(type);

    /// <summary>The model in <paramref name="type"/>: the model itself, else a copy loaded on first use and kept for the session.</summary>
    Peft.Clip.Model.ClipModel ModelIn(TorchSharp.torch.ScalarType type)
    {
        if (type == _spec.Backbone.ComputeType) return _clip.Model;
        lock (_copies)
        {
            if (!_copies.TryGetValue(type, out var copy))
                _copies[type] = copy = ClipLoader.Load(_spec.Backbone.Model, new ClipLoadOptions { ComputeType = type });
            return copy.Model;
        }
    }
    readonly Dictionary<TorchSharp.torch.ScalarType, LoadedClip> _copies = [];

    /// <summary>Pixels and uncached features through <see cref="EncoderModel"/>.</summary>
    public ImageRenderer EncoderImages => ReferenceEquals(EncoderModel, _clip.Model) ? Images : _encoderImages ??= new ImageRenderer(Cache, EncoderModel, _batchSize);

    /// <summary>"fp32" or "bf16": the dtype of <see cref="EncoderModel"/>.</summary>
    public string EncoderDtype => _spec.Backbone.EncoderDtype ?? _spec.Backbone.Dtype;

    public BackboneSession(ExperimentSpec spec, int batchSize = 32)
    {
        _spec = spec;
        _batchSize = batchSize;
        _clip = ClipLoader.Load(spec.Backbone.Model, new ClipLoadOptions { ComputeType = spec.Backbone.ComputeType });
        int size = _clip.Model.ImageResolution;
        Cache = new FeatureCache(Path.Combine(spec.CacheDir, "features"), _clip.Model, batchSize)
        {
            Progress = (done, total) => EncodeProgress?.Invoke(done, total),
        };
        Eval = new EvalViewRenderer(new ClipPreprocessor(size, spec.Backbone.ResizeMode));
        Images = new ImageRenderer(Cache, _clip.Model, batchSize);
        ImageSize = size;
        // A Hugging Face folder brings its own vocabulary (as peft encode does).
        var model = spec.Backbone.Model;
        Tokenizer = Directory.Exists(model) && File.Exists(Path.Combine(model, "vocab.json")) && File.Exists(Path.Combine(model, "merges.txt"))
            ? ClipTokenizer.FromHuggingFace(model) : ClipTokenizer.Default;
        _backboneAndEval = $"{Cache.BackboneFingerprint}|{Eval.Key}";
        _trainViews = spec.TrainViews;
    }

    /// <summary>The transform's cacheable spec at this backbone's input size.</summary>
    public AugmentationSpec Spec(MethodAugmentation augmentation) => augmentation.Spec(ImageSize);

    /// <summary>Names the cached features of a cell whose method trains on <paramref name="augmentation"/>'s views.</summary>
    public string FeatureCacheKeyFor(AugmentationSpec augmentation)
    {
        var key = $"{_backboneAndEval}|{augmentation.Key}|views={_trainViews}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
    }

    public void Dispose()
    {
        foreach (var copy in _copies.Values) copy.Dispose();
        Cache.Dispose();
        _clip.Dispose();
    }
}
