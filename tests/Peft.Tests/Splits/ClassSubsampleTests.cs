using System.Text.Json;
using Peft.Data.Datasets;
using Peft.Data.Splits;

namespace Peft.Tests.Splits;

/// <summary>
/// Base/new class halves against CoOp's own <c>OxfordPets.subsample_classes</c> (fixture from
/// tools/reference/make_class_split_fixtures.py): the same items kept, in the same order, with the same new labels.
/// </summary>
public class ClassSubsampleTests
{
    static IEnumerable<JsonElement> Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(SplitFixtures.Dir, "class_subsample.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.Clone()).ToList();
    }

    public static TheoryData<string> CaseNames() => new(Cases().Select(c => c.GetProperty("name").GetString()!));

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Halves_equal_the_official_subsample_classes(string name)
    {
        var c = Cases().Single(x => x.GetProperty("name").GetString() == name);
        var lists = c.GetProperty("lists").EnumerateObject().ToDictionary(p => p.Name,
            p => p.Value.EnumerateArray().Select((l, i) => new DatasetItem($"img{i}.jpg", l.GetInt32(), $"class{l.GetInt32()}")).ToList());
        var (b, n) = ClassSubsample.Split(lists["train"].Select(i => i.Label));
        foreach (var half in new[] { b, n })
        {
            var expected = c.GetProperty(half.Name);
            foreach (var (key, items) in lists)
            {
                var want = expected.GetProperty(key);
                var positions = half.Select(items.Select(i => i.Label).ToList());
                Assert.Equal(want.GetProperty("positions").EnumerateArray().Select(e => e.GetInt32()), positions);
                var applied = half.Apply(items);
                Assert.Equal(want.GetProperty("labels").EnumerateArray().Select(e => e.GetInt32()), applied.Select(i => i.Label));
                Assert.Equal(positions.Select(p => items[p].ImagePath), applied.Select(i => i.ImagePath));
            }
        }
        Assert.Empty(b.Labels.Intersect(n.Labels));
        Assert.Equal(b.Count, n.Count + (b.Count + n.Count) % 2); // first ceil(n/2) are base
    }

    [Fact]
    public void Class_names_follow_the_new_label_order()
    {
        var (b, n) = ClassSubsample.Split([4, 0, 2, 1, 3]);
        Assert.Equal(["a", "b", "c"], b.ClassNames(["a", "b", "c", "d", "e"]));
        Assert.Equal(["d", "e"], n.ClassNames(["a", "b", "c", "d", "e"]));
        Assert.Equal(1, n.Relabel(4));
        Assert.Null(n.Relabel(0));
    }

    [Fact]
    public void One_class_cannot_be_split()
    {
        var e = Assert.Throws<ArgumentException>(() => ClassSubsample.Split([3, 3]));
        Assert.Contains("at least 2 classes", e.Message);
    }
}
