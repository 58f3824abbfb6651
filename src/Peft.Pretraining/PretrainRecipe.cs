using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Peft.Pretraining;

/// <summary>A recipe file or override is invalid; <see cref="Key"/> names the offending JSON key (dotted path).</summary>
public sealed class PretrainRecipeException(string source, string key, string reason)
    : ArgumentException($"{source}: '{key}' {reason}")
{
    public string Key { get; } = key;
}

/// <summary>Sizes of the tiny CLIP (a ViT or ModifiedResNet image tower and a causal text tower, OpenAI layout).</summary>
public sealed record TinyClipSize
{
    /// <summary>
    /// <c>vit</c> or <c>resnet</c> (CLIP's ModifiedResNet: <see cref="VisionLayers"/> blocks in each of the 4 stages,
    /// <see cref="VisionWidth"/> the stem width, attention pooling; <see cref="PatchSize"/> unused).
    /// </summary>
    public string Vision { get; init; } = "vit";
    public int ImageSize { get; init; } = 64;
    public int PatchSize { get; init; } = 8;
    public int VisionWidth { get; init; } = 128;
    public int VisionLayers { get; init; } = 4;
    public int TextWidth { get; init; } = 128;
    public int TextLayers { get; init; } = 4;
    public int ContextLength { get; init; } = 32;
    public int EmbedDim { get; init; } = 128;
}

/// <summary>AdamW with linear warm-up then cosine decay to <see cref="MinLr"/> (per optimisation step).</summary>
public sealed record PretrainOptimizer
{
    public double Lr { get; init; } = 1e-3;
    public double WeightDecay { get; init; } = 0.1;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.98;
    public double Eps { get; init; } = 1e-6;
    public int WarmupSteps { get; init; } = 50;
    public double MinLr { get; init; }
}

/// <summary>What the recipe expects of the synthetic world it trains on (checked against the data).</summary>
public sealed record PretrainDataExpectation
{
    /// <summary>Side of the pretraining images in pixels (they are resized to the model's image size if different).</summary>
    public int ImageSize { get; init; } = 64;
    /// <summary>At least this many captioned images (fewer means the wrong folder or a truncated synth run).</summary>
    public int MinImages { get; init; } = 1;
    /// <summary>Use only the first N captioned images (0 = all).</summary>
    public int MaxImages { get; init; }
    /// <summary>
    /// Share of captions replaced, per image and epoch, by one that names only the shapes ("a star", "a ring and a
    /// moon"). Without it the tiny CLIP learns colour, size, place and background and no shape at all (a linear probe
    /// of its image features found 14% on 10 shapes): those cues already tell most in-batch pairs apart, so shape is
    /// never needed. A shape-only caption can be matched by shape alone.
    /// </summary>
    public double ShapeCaptionFraction { get; init; }
    /// <summary>The downstream tasks evaluated zero-shot after training (folders of the synth output).</summary>
    public IReadOnlyList<string> EvalTasks { get; init; } = ["synth_shapes", "synth_fine", "synth_shift"];
}

/// <summary>
/// A contrastive pretraining recipe (<c>experiments/pretrain-tiny.json</c>): model size, optimiser and schedule,
/// batch size, epochs, seed, threads, temperature, the synthetic data it expects and the checkpoint dtype.
/// </summary>
public sealed record PretrainRecipe
{
    public string Description { get; init; } = "";
    public int Seed { get; init; } = 1;
    /// <summary>Torch intra-op threads. Results are bitwise reproducible only for the same thread count.</summary>
    public int Threads { get; init; } = 2;
    public int BatchSize { get; init; } = 256;
    public int Epochs { get; init; } = 5;
    /// <summary>Initial softmax temperature τ (logit_scale = ln 1/τ, learnable), as CLIP's 0.07.</summary>
    public double TemperatureInit { get; init; } = 0.07;
    /// <summary>exp(logit_scale) is clamped at this (CLIP: 100).</summary>
    public double MaxLogitScale { get; init; } = 100;
    /// <summary>"float16" (default, half the size; loaders compute in fp32) or "float32".</summary>
    public string CheckpointDtype { get; init; } = "float16";
    public TinyClipSize Model { get; init; } = new();
    public PretrainOptimizer Optimizer { get; init; } = new();
    public PretrainDataExpectation Data { get; init; } = new();

    public static PretrainRecipe Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"recipe file not found: {path}", path);
        return Parse(File.ReadAllText(path), path);
    }

    public static PretrainRecipe Parse(string json, string source = "recipe")
    {
        JsonNode? root;
        try { root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new PretrainRecipeException(source, "(file)", $"is not valid JSON: {e.Message}"); }
        if (root is not JsonObject o) throw new PretrainRecipeException(source, "(root)", "must be a JSON object");
        var r = new Reader(source);
        r.Known(o, "", ["description", "seed", "threads", "batch_size", "epochs", "temperature_init", "max_logit_scale",
            "checkpoint_dtype", "model", "optimizer", "data", "notes"]);
        var m = r.Obj(o, "model");
        var opt = r.Obj(o, "optimizer");
        var d = r.Obj(o, "data");
        r.Known(m, "model.", ["vision", "image_size", "patch_size", "vision_width", "vision_layers", "text_width", "text_layers", "context_length", "embed_dim"]);
        r.Known(opt, "optimizer.", ["lr", "weight_decay", "beta1", "beta2", "eps", "warmup_steps", "min_lr"]);
        r.Known(d, "data.", ["image_size", "min_images", "max_images", "shape_caption_fraction", "eval_tasks"]);
        var def = new PretrainRecipe();
        var recipe = new PretrainRecipe
        {
            Description = r.Str(o, "", "description", def.Description),
            Seed = r.Int(o, "", "seed", def.Seed),
            Threads = r.Int(o, "", "threads", def.Threads),
            BatchSize = r.Int(o, "", "batch_size", def.BatchSize),
            Epochs = r.Int(o, "", "epochs", def.Epochs),
            TemperatureInit = r.Num(o, "", "temperature_init", def.TemperatureInit),
            MaxLogitScale = r.Num(o, "", "max_logit_scale", def.MaxLogitScale),
            CheckpointDtype = r.Str(o, "", "checkpoint_dtype", def.CheckpointDtype),
            Model = new TinyClipSize
            {
                Vision = r.Str(m, "model.", "vision", def.Model.Vision),
                ImageSize = r.Int(m, "model.", "image_size", def.Model.ImageSize),
                PatchSize = r.Int(m, "model.", "patch_size", def.Model.PatchSize),
                VisionWidth = r.Int(m, "model.", "vision_width", def.Model.VisionWidth),
                VisionLayers = r.Int(m, "model.", "vision_layers", def.Model.VisionLayers),
                TextWidth = r.Int(m, "model.", "text_width", def.Model.TextWidth),
                TextLayers = r.Int(m, "model.", "text_layers", def.Model.TextLayers),
                ContextLength = r.Int(m, "model.", "context_length", def.Model.ContextLength),
                EmbedDim = r.Int(m, "model.", "embed_dim", def.Model.EmbedDim),
            },
            Optimizer = new PretrainOptimizer
            {
                Lr = r.Num(opt, "optimizer.", "lr", def.Optimizer.Lr),
                WeightDecay = r.Num(opt, "optimizer.", "weight_decay", def.Optimizer.WeightDecay),
                Beta1 = r.Num(opt, "optimizer.", "beta1", def.Optimizer.Beta1),
                Beta2 = r.Num(opt, "optimizer.", "beta2", def.Optimizer.Beta2),
                Eps = r.Num(opt, "optimizer.", "eps", def.Optimizer.Eps),
                WarmupSteps = r.Int(opt, "optimizer.", "warmup_steps", def.Optimizer.WarmupSteps),
                MinLr = r.Num(opt, "optimizer.", "min_lr", def.Optimizer.MinLr),
            },
            Data = new PretrainDataExpectation
            {
                ImageSize = r.Int(d, "data.", "image_size", def.Data.ImageSize),
                MinImages = r.Int(d, "data.", "min_images", def.Data.MinImages),
                MaxImages = r.Int(d, "data.", "max_images", def.Data.MaxImages),
                ShapeCaptionFraction = r.Num(d, "data.", "shape_caption_fraction", def.Data.ShapeCaptionFraction),
                EvalTasks = r.StrList(d, "data.", "eval_tasks", def.Data.EvalTasks),
            },
        };
        recipe.Validate(source);
        return recipe;
    }

    /// <summary>Checks every value; the exception names the key.</summary>
    public void Validate(string source = "recipe")
    {
        void Need(bool ok, string key, string reason) { if (!ok) throw new PretrainRecipeException(source, key, reason); }
        Need(Threads >= 1, "threads", $"must be ≥ 1 (got {Threads})");
        Need(BatchSize >= 2, "batch_size", $"must be ≥ 2 (contrastive loss needs negatives; got {BatchSize})");
        Need(Epochs >= 1, "epochs", $"must be ≥ 1 (got {Epochs})");
        Need(TemperatureInit > 0 && TemperatureInit <= 1, "temperature_init", $"must be in (0, 1] (got {TemperatureInit})");
        Need(MaxLogitScale >= 1 / TemperatureInit, "max_logit_scale", $"must be ≥ 1/temperature_init = {1 / TemperatureInit:G4} (got {MaxLogitScale})");
        Need(CheckpointDtype is "float16" or "float32", "checkpoint_dtype", $"must be \"float16\" or \"float32\" (got \"{CheckpointDtype}\")");
        var m = Model;
        Need(m.ImageSize >= 8, "model.image_size", $"must be ≥ 8 (got {m.ImageSize})");
        Need(m.Vision is "vit" or "resnet", "model.vision", $"must be \"vit\" or \"resnet\" (got \"{m.Vision}\")");
        if (m.Vision == "vit")
        {
            Need(m.PatchSize >= 1 && m.ImageSize % m.PatchSize == 0, "model.patch_size", $"must divide model.image_size {m.ImageSize} (got {m.PatchSize})");
            Need(m.VisionWidth >= 64 && m.VisionWidth % 64 == 0, "model.vision_width", $"must be a positive multiple of 64 (heads = width/64; got {m.VisionWidth})");
        }
        else
        {
            Need(m.ImageSize % 32 == 0, "model.image_size", $"must be a multiple of 32 for a ResNet (5 halvings; got {m.ImageSize})");
            Need(m.VisionWidth >= 2 && m.VisionWidth % 2 == 0, "model.vision_width", $"must be a positive even number for a ResNet (pool heads = width/2; got {m.VisionWidth})");
        }
        Need(m.TextWidth >= 64 && m.TextWidth % 64 == 0, "model.text_width", $"must be a positive multiple of 64 (heads = width/64; got {m.TextWidth})");
        Need(m.VisionLayers >= 1, "model.vision_layers", $"must be ≥ 1 (got {m.VisionLayers})");
        Need(m.TextLayers >= 1, "model.text_layers", $"must be ≥ 1 (got {m.TextLayers})");
        Need(m.ContextLength is >= 8 and <= 77, "model.context_length", $"must be in [8, 77] (got {m.ContextLength})");
        Need(m.EmbedDim >= 8, "model.embed_dim", $"must be ≥ 8 (got {m.EmbedDim})");
        var o = Optimizer;
        Need(o.Lr > 0 && o.Lr < 1, "optimizer.lr", $"must be in (0, 1) (got {o.Lr})");
        Need(o.WeightDecay >= 0, "optimizer.weight_decay", $"must be ≥ 0 (got {o.WeightDecay})");
        Need(o.Beta1 is >= 0 and < 1, "optimizer.beta1", $"must be in [0, 1) (got {o.Beta1})");
        Need(o.Beta2 is >= 0 and < 1, "optimizer.beta2", $"must be in [0, 1) (got {o.Beta2})");
        Need(o.Eps > 0, "optimizer.eps", $"must be > 0 (got {o.Eps})");
        Need(o.WarmupSteps >= 0, "optimizer.warmup_steps", $"must be ≥ 0 (got {o.WarmupSteps})");
        Need(o.MinLr >= 0 && o.MinLr <= o.Lr, "optimizer.min_lr", $"must be in [0, optimizer.lr] (got {o.MinLr})");
        var d = Data;
        Need(d.ImageSize >= 8, "data.image_size", $"must be ≥ 8 (got {d.ImageSize})");
        Need(d.MinImages >= 1, "data.min_images", $"must be ≥ 1 (got {d.MinImages})");
        Need(d.MaxImages >= 0, "data.max_images", $"must be ≥ 0 (0 = all; got {d.MaxImages})");
        Need(d.ShapeCaptionFraction is >= 0 and <= 1, "data.shape_caption_fraction", $"must be in [0, 1] (got {d.ShapeCaptionFraction})");
    }

    /// <summary>The recipe as JSON (snake_case keys, the format <see cref="Parse"/> reads); stored in the checkpoint's metadata.</summary>
    public string ToJson()
    {
        var o = new JsonObject
        {
            ["description"] = Description, ["seed"] = Seed, ["threads"] = Threads, ["batch_size"] = BatchSize, ["epochs"] = Epochs,
            ["temperature_init"] = TemperatureInit, ["max_logit_scale"] = MaxLogitScale, ["checkpoint_dtype"] = CheckpointDtype,
            ["model"] = new JsonObject
            {
                ["vision"] = Model.Vision, ["image_size"] = Model.ImageSize, ["patch_size"] = Model.PatchSize, ["vision_width"] = Model.VisionWidth,
                ["vision_layers"] = Model.VisionLayers, ["text_width"] = Model.TextWidth, ["text_layers"] = Model.TextLayers,
                ["context_length"] = Model.ContextLength, ["embed_dim"] = Model.EmbedDim,
            },
            ["optimizer"] = new JsonObject
            {
                ["lr"] = Optimizer.Lr, ["weight_decay"] = Optimizer.WeightDecay, ["beta1"] = Optimizer.Beta1, ["beta2"] = Optimizer.Beta2,
                ["eps"] = Optimizer.Eps, ["warmup_steps"] = Optimizer.WarmupSteps, ["min_lr"] = Optimizer.MinLr,
            },
            ["data"] = new JsonObject
            {
                ["image_size"] = Data.ImageSize, ["min_images"] = Data.MinImages, ["max_images"] = Data.MaxImages,
                ["shape_caption_fraction"] = Data.ShapeCaptionFraction,
                ["eval_tasks"] = new JsonArray(Data.EvalTasks.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
            },
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    sealed class Reader(string source)
    {
        PretrainRecipeException Err(string key, string reason) => new(source, key, reason);

        public void Known(JsonObject? o, string prefix, string[] keys)
        {
            if (o is null) return;
            foreach (var (k, _) in o)
                if (!keys.Contains(k)) throw Err(prefix + k, $"is not a recipe key (known: {string.Join(", ", keys)})");
        }

        public JsonObject? Obj(JsonObject o, string key) => o[key] switch
        {
            null => null,
            JsonObject x => x,
            _ => throw Err(key, "must be a JSON object"),
        };

        public int Int(JsonObject? o, string prefix, string key, int def)
        {
            if (o?[key] is not { } n) return def;
            if (n is JsonValue v && v.TryGetValue(out double x) && x == Math.Floor(x) && x is >= int.MinValue and <= int.MaxValue) return (int)x;
            throw Err(prefix + key, $"must be an integer (got {n.ToJsonString()})");
        }

        public double Num(JsonObject? o, string prefix, string key, double def)
        {
            if (o?[key] is not { } n) return def;
            if (n is JsonValue v && v.TryGetValue(out double x) && double.IsFinite(x)) return x;
            throw Err(prefix + key, $"must be a number (got {n.ToJsonString()})");
        }

        public string Str(JsonObject? o, string prefix, string key, string def)
        {
            if (o?[key] is not { } n) return def;
            if (n is JsonValue v && v.TryGetValue(out string? s)) return s;
            throw Err(prefix + key, $"must be a string (got {n.ToJsonString()})");
        }

        public IReadOnlyList<string> StrList(JsonObject? o, string prefix, string key, IReadOnlyList<string> def)
        {
            if (o?[key] is not { } n) return def;
            if (n is JsonArray a && a.All(e => e is JsonValue ev && ev.TryGetValue(out string? _)))
                return a.Select(e => e!.GetValue<string>()).ToList();
            throw Err(prefix + key, $"must be a list of strings (got {n.ToJsonString()})");
        }
    }
}
