using System.Text;
using Peft.Clip.Loading;
using Peft.Clip.Model;
using static TorchSharp.torch;
using Peft.Tensors;

namespace Peft.Tests.Clip;

/// <summary>Bad checkpoints: each gets one clear error naming the file (and the key where there is one).</summary>
public sealed class CheckpointErrorTests() : TempDirectory("peft-ckpt-")
{
    static ClipCheckpointException Fails(string path, ClipLoadOptions? options = null) =>
        Assert.Throws<ClipCheckpointException>(() => ClipLoader.Load(path, options).Dispose());

    /// <summary>The ViT fixture's tensors, edited, saved as safetensors.</summary>
    string EditedCheckpoint(string name, Action<Dictionary<string, Tensor>> edit)
    {
        using var sd = SafeTensorsFile.Read(FixturePaths.Clip("vit_fp16.safetensors"));
        var dict = sd.Keys.ToDictionary(k => k, k => sd[k].alias());
        edit(dict);
        var path = Temp(name);
        SafeTensorsFile.Write(path, dict);
        foreach (var t in dict.Values) t.Dispose();
        return path;
    }

    [Fact]
    public void MissingFile()
    {
        var e = Fails(Temp("nope.pt"));
        Assert.Contains("nope.pt", e.Message);
        Assert.Contains("no such file", e.Message);
    }

    [Fact]
    public void UnknownFormat()
    {
        File.WriteAllText(Temp("weights.txt"), "these are not weights");
        var e = Fails(Temp("weights.txt"));
        Assert.Contains("weights.txt", e.Message);
        Assert.Contains("unknown checkpoint format", e.Message);
    }

    [Fact]
    public void LegacyPickle()
    {
        File.WriteAllBytes(Temp("old.pt"), [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20]);
        var e = Fails(Temp("old.pt"));
        Assert.Contains("legacy", e.Message);
    }

    [Fact]
    public void TruncatedSafetensors()
    {
        var bytes = File.ReadAllBytes(FixturePaths.Clip("vit_fp16.safetensors"));
        File.WriteAllBytes(Temp("cut.safetensors"), bytes[..(bytes.Length / 2)]);
        var e = Fails(Temp("cut.safetensors"));
        Assert.Contains("cut.safetensors", e.Message);
        Assert.Contains("outside", e.Message); // the first tensor past the cut is named
        Assert.NotNull(e.Key);
    }

    [Fact]
    public void SafetensorsHeaderClaimingAHugeLength()
    {
        var bytes = new byte[64];
        BitConverter.GetBytes(ulong.MaxValue / 2).CopyTo(bytes, 0);
        bytes[8] = (byte)'{';
        File.WriteAllBytes(Temp("huge.safetensors"), bytes);
        var e = Fails(Temp("huge.safetensors"));
        Assert.Contains("header claims", e.Message);
    }

    /// <summary>A safetensors file with the given JSON header followed by <paramref name="dataBytes"/> zero bytes.</summary>
    string RawSafetensors(string name, string header, int dataBytes)
    {
        var json = Encoding.UTF8.GetBytes(header);
        using var f = File.Create(Temp(name));
        f.Write(BitConverter.GetBytes((ulong)json.Length));
        f.Write(json);
        f.Write(new byte[dataBytes]);
        return Temp(name);
    }

    [Fact]
    public void SafetensorsOffsetsOutsideTheFile()
    {
        var path = RawSafetensors("offsets.safetensors", "{\"visual.proj\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,1048576]}}", 16);
        var e = Fails(path);
        Assert.Equal("visual.proj", e.Key);
        Assert.Contains("outside", e.Message);
    }

    [Fact]
    public void SafetensorsSpanNotMatchingTheShape()
    {
        var path = RawSafetensors("span.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 16);
        var e = Assert.Throws<TensorFileException>(() => SafeTensorsFile.Read(path).Dispose());
        Assert.Contains("needs 16", e.Message);
    }

    [Fact]
    public void TorchScriptArchiveWithoutClipWeights()
    {
        var e = Fails(FixturePaths.Clip("bad_not_clip_jit.pt"));
        Assert.Contains("does not hold CLIP weights", e.Message);
    }

    [Fact]
    public void PickledModuleInsteadOfStateDict()
    {
        var e = Fails(FixturePaths.Clip("bad_pickled_module.pt"));
        Assert.Contains("bad_pickled_module.pt", e.Message);
        Assert.Contains("not a state dict", e.Message);
    }

    [Fact]
    public void MismatchedShapeNamesKeyAndBothShapes()
    {
        var path = EditedCheckpoint("shape.safetensors", d => d["visual.ln_post.bias"] = zeros(127, dtype: ScalarType.Float16));
        var e = Fails(path);
        Assert.Equal("visual.ln_post.bias", e.Key);
        Assert.Contains("[127]", e.Message);
        Assert.Contains("[128]", e.Message);
    }

    [Fact]
    public void MissingKeysAreListed()
    {
        var path = EditedCheckpoint("missing.safetensors", d => { d.Remove("visual.ln_post.bias"); d.Remove("ln_final.weight"); d["ln_final.weight"] = ones(128); d.Remove("logit_scale"); });
        var e = Fails(path);
        Assert.Contains("2 expected key(s) missing", e.Message);
        Assert.Contains("visual.ln_post.bias", e.Message);
        Assert.Contains("logit_scale", e.Message);
    }

    [Fact]
    public void UnexpectedKeysFailUnlessAllowed()
    {
        var path = EditedCheckpoint("extra.safetensors", d => d["visual.adapter.weight"] = zeros(4));
        var e = Fails(path);
        Assert.Equal("visual.adapter.weight", e.Key);
        Assert.Contains("unexpected", e.Message);

        using var loaded = ClipLoader.Load(path, new ClipLoadOptions { AllowUnexpectedKeys = true });
        Assert.Contains("visual.adapter.weight", loaded.IgnoredKeys);
    }

    [Fact]
    public void FolderWithoutConfig()
    {
        var e = Fails(Dir);
        Assert.Contains("config.json", e.Message);
    }

    [Fact]
    public void SafetensorsRoundTripKeepsValuesAndDtypes()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(7);
        var tensors = new Dictionary<string, Tensor>
        {
            ["a"] = randn([3, 5], generator: g), ["b"] = randn([4], generator: g).to(ScalarType.BFloat16),
            ["c"] = arange(6, dtype: ScalarType.Int64).view(2, 3), ["scalar"] = tensor(2.5f),
        };
        var path = Temp("rt.safetensors");
        SafeTensorsFile.Write(path, tensors, new Dictionary<string, string> { ["note"] = "x" });
        using var back = SafeTensorsFile.Read(path);
        Assert.Equal(tensors.Keys.Order(), back.Keys.Order());
        foreach (var (k, t) in tensors)
        {
            Assert.Equal(t.dtype, back[k].dtype);
            Assert.Equal(t.shape, back[k].shape);
            Assert.True(t.to(ScalarType.Float64).allclose(back[k].to(ScalarType.Float64), 0, 0), k);
        }
        Assert.Equal("x", SafeTensorsFile.ReadHeader(path).metadata["note"]);
        Assert.Empty(Directory.GetFiles(Dir, "*.tmp"));
    }
}
