using System.Text.Json.Nodes;
using Peft.Data.Datasets;
using Peft.Data.Splits;

namespace Peft.Tests.Splits;

/// <summary>Every way <see cref="SplitManifest.Read"/> rejects a file, with the file and the entry named.</summary>
public class SplitManifestValidationTests() : TempDirectory("peft-splits-validate-")
{
    static SplitManifest Small()
    {
        var ds = new ImageDataset
        {
            Name = "tiny",
            Root = "/data/tiny",
            ImageRoot = "/data/tiny",
            ClassNames = ["cat", "dog"],
            Templates = ["a photo of a {}."],
            Train = [new("a/1.jpg", 0, "cat"), new("a/2.jpg", 0, "cat"), new("b/1.jpg", 1, "dog"), new("b/2.jpg", 1, "dog")],
            Val = [new("v/1.jpg", 1, "dog"), new("v/2.jpg", 0, "cat")],
            Test = [new("t/1.jpg", 0, "cat"), new("t/2.jpg", 1, "dog")],
        };
        return SplitManifest.Create(ds, new FewShotRequest(1, 1));
    }

    /// <summary>Writes the manifest after <paramref name="edit"/>; with <paramref name="rehash"/> the sha256 is recomputed so
    /// that the check under test, not the hash check, is what fails.</summary>
    string Edited(Action<JsonObject> edit, bool rehash = true)
    {
        var node = JsonNode.Parse(Small().ToJson())!.AsObject();
        edit(node);
        if (rehash && node["sha256"] is not null)
            node["sha256"] = Rehash(node);
        var path = Temp($"edited-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, node.ToJsonString());
        return path;
    }

    /// <summary>The hash the edited content would have, or a dummy if the content cannot form a manifest.</summary>
    static string Rehash(JsonObject node)
    {
        try
        {
            var items = (string s) => node[s] is JsonArray a
                ? a.Select(t => new DatasetItem((string)t![0]!, (int)t[1]!, (string)t[2]!)).ToList()
                : [];
            var m = new SplitManifest((string)node["dataset"]!, null, null,
                SamplingModes.TryParse((string?)node["sampling"], out var mode) ? mode : SamplingMode.Dassl,
                (int)node["shots"]!, (int?)node["seed"], (int)node["val_shots"]!,
                node["class_names"]!.AsArray().Select(n => (string)n!).ToList(), items("train"), items("val"), items("test"),
                node["short_classes"]!.AsArray().Select(s => new ShortClass((string)s!["split"]!, (int)s["label"]!,
                    (string)s["class"]!, (int)s["available"]!, (int)s["requested"]!)).ToList());
            return m.Sha256;
        }
        catch (Exception)
        {
            return new string('0', 64);
        }
    }

    static void Expect(string path, params string[] fragments)
    {
        var e = Assert.Throws<DatasetFormatException>(() => SplitManifest.Read(path));
        Assert.Equal(path, e.File);
        Assert.StartsWith(path + ": ", e.Message);
        foreach (var f in fragments)
            Assert.Contains(f, e.Message);
    }

    [Fact]
    public void TheUneditedFileReads()
    {
        var path = Edited(_ => { });
        Assert.Equal(Small().Sha256, SplitManifest.Read(path).Sha256);
    }

    [Fact]
    public void HashMismatch()
    {
        Expect(Edited(n => n["train"]![0]![0] = "a/3.jpg", rehash: false), "sha256 mismatch");
        Expect(Edited(n => n["sha256"] = "00", rehash: false), "sha256 mismatch");
        Expect(Edited(n => n["seed"] = 2, rehash: false), "sha256 mismatch");
    }

    [Fact]
    public void LabelsOutOfRange()
    {
        Expect(Edited(n => n["train"]![0]![1] = 2), "train[0] 'a/", "label 2 is outside 0..1");
        Expect(Edited(n => n["test"]![1]![1] = -1), "test[1] 't/2.jpg'", "label -1");
        Expect(Edited(n => n["short_classes"] = new JsonArray(Short("train", 5, 0, 1))), "short_classes[0]", "label 5");
    }

    [Theory]
    [InlineData("/abs/x.jpg", "absolute")]
    [InlineData("C:/x.jpg", "absolute")]
    [InlineData("a/../../x.jpg", "'..'")]
    [InlineData("..", "'..'")]
    [InlineData("a\\x.jpg", "'\\'")]
    [InlineData("", "empty")]
    public void BadPaths(string path, string why)
    {
        Expect(Edited(n => n["val"]![1]![0] = path), $"val[1] '{path}'", why);
    }

    [Fact]
    public void Duplicates()
    {
        Expect(Edited(n => n["test"]![1]![0] = "t/1.jpg"), "test[1] 't/1.jpg'", "listed twice", "test[0]");
        Expect(Edited(n => ((JsonArray)n["train"]!).Add(n["train"]![0]!.DeepClone())), "train[2]", "listed twice");
    }

    [Fact]
    public void MalformedEntries()
    {
        Expect(Edited(n => n["train"]![0] = new JsonArray("a/1.jpg", 0)), "train[0]", "[relative_path, label, classname]");
        Expect(Edited(n => n["train"]![0] = "a/1.jpg"), "train[0]", "[relative_path, label, classname]");
        Expect(Edited(n => n["train"]![0]![1] = "0"), "train[0] 'a/", "label", "expected an integer");
        Expect(Edited(n => n["train"]![0]![1] = 0.5), "label", "expected an integer");
        Expect(Edited(n => n["train"]![0]![2] = 3), "classname", "expected a string");
        Expect(Edited(n => n["train"]![0]![0] = JsonValue.Create((string?)null)), "train[0] path", "expected a string");
        Expect(Edited(n => n["val"] = new JsonObject()), "val", "expected a list");
        Expect(Edited(n => n["class_names"]![0] = 7), "class_names[0]", "expected a string");
        Expect(Edited(n => n["class_names"] = new JsonArray()), "class_names is empty");
    }

    [Fact]
    public void HeaderFields()
    {
        Expect(Edited(n => n["format"] = "something-else"), "format is 'something-else'");
        Expect(Edited(n => n["format_version"] = 2), "format_version 2 is not supported");
        Expect(Edited(n => n["sampling"] = "balanced"), "sampling 'balanced'");
        Expect(Edited(n => n["shots"] = 0), "shots is 0");
        Expect(Edited(n => n["seed"] = null), "seed is missing");
        Expect(Edited(n => n["created_utc"] = "yesterday"), "created_utc 'yesterday'");
        Expect(Edited(n => n["dataset"] = ""), "dataset name is empty");
        Expect(Edited(n => n.Remove("test")), "field 'test' is missing");
        Expect(Edited(n => n.Remove("sha256"), rehash: false), "field 'sha256' is missing");
        Expect(Edited(n => n["extra"] = 1), "unknown field 'extra'");
    }

    [Fact]
    public void ShortClassEntries()
    {
        Expect(Edited(n => n["short_classes"] = new JsonArray(Short("test", 0, 0, 1))), "short_classes[0]", "neither");
        Expect(Edited(n => n["short_classes"] = new JsonArray(Short("train", 0, 2, 1))), "short_classes[0]", "not a shortfall");
        Expect(Edited(n => n["short_classes"] = new JsonArray(new JsonObject { ["split"] = "train" })),
            "short_classes[0]", "field 'label' is missing");
        Expect(Edited(n => n["short_classes"] = new JsonArray(1)), "short_classes[0]", "expected an object");
    }

    [Fact]
    public void NotJsonOrNotAnObjectOrDuplicateKeys()
    {
        var path = Temp("bad.json");
        File.WriteAllText(path, "{\"format\": ");
        Expect(path, "not valid JSON");
        File.WriteAllText(path, "[1, 2]");
        Expect(path, "a split manifest is a JSON object");
        var text = Small().ToJson().Replace("\"shots\": 1,", "\"shots\": 1,\n  \"shots\": 1,");
        File.WriteAllText(path, text);
        Expect(path, "field 'shots' appears twice");
        File.WriteAllBytes(path, [0x7b, 0xff, 0xfe, 0x7d]);
        Expect(path, "not valid UTF-8");
    }

    static JsonObject Short(string split, int label, int available, int requested) => new()
    {
        ["split"] = split, ["label"] = label, ["class"] = "cat", ["available"] = available, ["requested"] = requested,
    };
}
