using System.Security.Cryptography;
using System.Text;
using Peft.Clip.Imaging;
using Peft.Clip.Loading;
using Peft.Clip.Text;
using Peft.Core;
using Peft.Data.Augmentation;
using Peft.Data.Caching;

namespace Peft.Host.Experiments;

/// <summary>
/// The frozen CLIP of an experiment, loaded once per invocation, with its feature cache, evaluation transform and
/// training augmentation. <see cref="FeatureCacheKey"/> names the cached features a cell used (tag
/// <c>peft.feature_cache_key</c>): backbone weights, both transforms and the number of views.
/// </summary>
public sealed class BackboneSession : IDisposable
{
    readonly LoadedClip _clip;

    public FeatureCache Cache { get; }
    public EvalViewRenderer Eval { get; }
    public AugmentationSpec Augmentation { get; }
    public IFrozenTextEncoder TextEncoder => _clip.Model;
    public int EmbedDim => _clip.Model.EmbedDim;
    public ITextTokenizer Tokenizer { get; }
    public string FeatureCacheKey { get; }
    /// <summary>Called with (images done, images to encode) while the cache encodes missing entries.</summary>
    public Action<int, int>? EncodeProgress { get; set; }

    public BackboneSession(ExperimentSpec spec, int batchSize = 32)
    {
        _clip = ClipLoader.Load(spec.Backbone.Model, new ClipLoadOptions { ComputeType = spec.Backbone.ComputeType });
        int size = _clip.Model.ImageResolution;
        Cache = new FeatureCache(Path.Combine(spec.CacheDir, "features"), _clip.Model, batchSize)
        {
            Progress = (done, total) => EncodeProgress?.Invoke(done, total),
        };
        Eval = new EvalViewRenderer(new ClipPreprocessor(size, spec.Backbone.ResizeMode));
        Augmentation = spec.Augmentation == "dassl" ? AugmentationSpec.Dassl(size) : AugmentationSpec.TipAdapter(size);
        // A Hugging Face folder brings its own vocabulary (as peft encode does).
        var model = spec.Backbone.Model;
        Tokenizer = Directory.Exists(model) && File.Exists(Path.Combine(model, "vocab.json")) && File.Exists(Path.Combine(model, "merges.txt"))
            ? ClipTokenizer.FromHuggingFace(model) : ClipTokenizer.Default;
        var key = $"{Cache.BackboneFingerprint}|{Eval.Key}|{Augmentation.Key}|views={spec.TrainViews}";
        FeatureCacheKey = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
    }

    public void Dispose() => _clip.Dispose();
}
