using System.Text;
using Peft.IO;

namespace Peft.Tests.IO;

public class AtomicFileTests() : TempDirectory("peft-io-atomic-")
{
    static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Every file below <paramref name="folder"/>, relative, sorted: what a write left behind.</summary>
    static string[] FilesUnder(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void Replace_creates_the_file_and_its_folder_and_leaves_no_temporary_file()
    {
        var path = Temp("a/b/result.json");
        AtomicFile.Replace(path, Bytes("first"));
        Assert.Equal("first", File.ReadAllText(path));
        Assert.Equal(["a/b/result.json"], FilesUnder(Dir));
    }

    [Fact]
    public void Replace_replaces_an_existing_file()
    {
        var path = Temp("result.json");
        File.WriteAllText(path, "a longer old content");
        AtomicFile.Replace(path, Bytes("new"));
        Assert.Equal("new", File.ReadAllText(path));
        AtomicFile.Replace(path, []);
        Assert.Equal(0, new FileInfo(path).Length);
        Assert.Equal(["result.json"], FilesUnder(Dir));
    }

    [Fact]
    public void Replace_stages_in_the_staging_folder_and_leaves_it_empty()
    {
        var staging = Temp("run");
        var path = Path.Combine(staging, "tags", "peft.cell");
        AtomicFile.Replace(path, Bytes("x/1/1/m"), staging);
        Assert.Equal("x/1/1/m", File.ReadAllText(path));
        Assert.Equal(["tags/peft.cell"], FilesUnder(staging));
    }

    [Fact]
    public void Replace_that_fails_leaves_no_temporary_file()
    {
        var path = Temp("taken");
        Directory.CreateDirectory(Path.Combine(path, "inside")); // a non-empty folder where the file should go
        Assert.ThrowsAny<Exception>(() => AtomicFile.Replace(path, Bytes("content")));
        Assert.True(Directory.Exists(Path.Combine(path, "inside")));
        Assert.Empty(FilesUnder(Dir));
    }

    [Fact]
    public void Streamed_replace_writes_what_the_callback_streams_and_a_failing_callback_leaves_the_old_file()
    {
        var path = Temp("weights.safetensors");
        AtomicFile.Replace(path, stream => { stream.Write(Bytes("part one, ")); stream.Write(Bytes("part two")); });
        Assert.Equal("part one, part two", File.ReadAllText(path));

        var e = Assert.Throws<InvalidOperationException>(() => AtomicFile.Replace(path, stream =>
        {
            stream.Write(Bytes("half of a new"));
            throw new InvalidOperationException("tensor on a lost device");
        }));
        Assert.Equal("tensor on a lost device", e.Message);
        Assert.Equal("part one, part two", File.ReadAllText(path)); // readers never see the half-written content
        Assert.Equal(["weights.safetensors"], FilesUnder(Dir));
    }

    [Fact]
    public void Append_keeps_every_record_of_concurrent_appenders_whole()
    {
        var path = Temp("log/records.txt");
        Parallel.For(0, 8, w => { for (int i = 0; i < 200; i++) AtomicFile.Append(path, Bytes($"writer {w} record {i:000} " + new string('x', 100) + "\n")); });
        var lines = File.ReadAllLines(path);
        Assert.Equal(1600, lines.Length);
        Assert.Equal(1600, lines.Distinct().Count());
        Assert.All(lines, l => Assert.Matches(@"^writer \d record \d{3} x{100}$", l));
        using (var reader = new StreamReader(AtomicFile.OpenShared(path))) Assert.Equal(1600, reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void TryCreate_creates_once_and_then_leaves_the_file_alone()
    {
        var path = Temp("params/lr");
        Assert.True(AtomicFile.TryCreate(path, Bytes("0.002")));
        Assert.False(AtomicFile.TryCreate(path, Bytes("0.5")));
        Assert.Equal("0.002", File.ReadAllText(path));
        Assert.Equal(["params/lr"], FilesUnder(Dir));
    }

    [Fact]
    public void TryCreate_stages_in_the_staging_folder()
    {
        var run = Temp("run");
        var path = Path.Combine(run, "params", "method.lr");
        Assert.True(AtomicFile.TryCreate(path, Bytes("1"), run));
        Assert.False(AtomicFile.TryCreate(path, Bytes("2"), run));
        Assert.Equal("1", File.ReadAllText(path));
        Assert.Equal(["params/method.lr"], FilesUnder(run));
    }

    [Fact]
    public void TryCreate_with_a_name_the_file_system_refuses_fails_clearly_and_leaves_no_temporary_file()
    {
        // link(2) fails with ENAMETOOLONG (not EEXIST): the fallback reports it as .NET does; the temporary name is short.
        var path = Temp(new string('k', 300));
        Assert.ThrowsAny<IOException>(() => AtomicFile.TryCreate(path, Bytes("v")));
        Assert.Empty(FilesUnder(Dir));
    }

    [Fact]
    public void TryCreate_in_a_folder_that_is_a_file_fails_and_writes_nothing()
    {
        File.WriteAllText(Temp("file"), "x");
        Assert.ThrowsAny<IOException>(() => AtomicFile.TryCreate(Temp("file/param"), Bytes("v")));
        Assert.Equal(["file"], FilesUnder(Dir));
    }

    [Fact]
    public async Task TryCreate_from_many_threads_lets_exactly_one_create()
    {
        for (int round = 0; round < 20; round++)
        {
            var path = Temp($"round{round}/m");
            using var start = new Barrier(8);
            var won = await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
            {
                start.SignalAndWait();
                return AtomicFile.TryCreate(path, Bytes($"thread {t}"));
            })));
            Assert.Single(won, w => w);
            Assert.Equal($"thread {Array.IndexOf(won, true)}", File.ReadAllText(path));
            Assert.Equal(["m"], FilesUnder(Path.GetDirectoryName(path)!));
        }
    }

    [Fact]
    public void LinkNoReplace_never_replaces()
    {
        File.WriteAllText(Temp("target"), "first");
        File.WriteAllText(Temp("a"), "second");
        Assert.False(AtomicFile.LinkNoReplace(Temp("a"), Temp("target")));
        Assert.Equal("first", File.ReadAllText(Temp("target")));
        Assert.True(AtomicFile.LinkNoReplace(Temp("a"), Temp("new")));
        Assert.Equal("second", File.ReadAllText(Temp("new")));
    }

    /// <summary>A folder <paramref name="name"/> (below the test folder) holding <c>manifest.json</c> with <paramref name="manifest"/>.</summary>
    string Folder(string name, string manifest)
    {
        var folder = Temp(name);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "manifest.json"), manifest);
        return folder;
    }

    [Fact]
    public void PublishDirectory_moves_the_folder_into_place()
    {
        var temp = Folder(".world.tmp", "{}");
        var target = Temp("data/world");
        Assert.True(AtomicFile.PublishDirectory(temp, target));
        Assert.False(Directory.Exists(temp));
        Assert.Equal("{}", File.ReadAllText(Path.Combine(target, "manifest.json")));
    }

    [Fact]
    public void PublishDirectory_replaces_an_empty_folder()
    {
        var temp = Folder(".world.tmp", "mine");
        Directory.CreateDirectory(Temp("world"));
        Assert.True(AtomicFile.PublishDirectory(temp, Temp("world")));
        Assert.Equal("mine", File.ReadAllText(Temp("world/manifest.json")));
    }

    [Fact]
    public void PublishDirectory_reports_a_folder_published_first_and_leaves_both()
    {
        var temp = Folder(".world.tmp", "mine");
        var target = Folder("world", "theirs");
        Assert.False(AtomicFile.PublishDirectory(temp, target));
        Assert.Equal("theirs", File.ReadAllText(Path.Combine(target, "manifest.json")));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(temp, "manifest.json")));
    }

    [Fact]
    public void PublishDirectory_of_a_missing_folder_says_so()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.PublishDirectory(Temp("nothing"), Temp("world")));
        Assert.Contains(Temp("nothing"), e.Message);
        Assert.False(Directory.Exists(Temp("world")));
    }

    [Fact]
    public void Temporary_names_are_recognised()
    {
        Assert.True(AtomicFile.IsTemporary(".meta.yaml.0123456789abcdef0123456789abcdef.tmp"));
        Assert.True(AtomicFile.IsTemporary("..0123456789abcdef0123456789abcdef.tmp"));
        Assert.False(AtomicFile.IsTemporary("meta.yaml"));
        Assert.False(AtomicFile.IsTemporary("x.0123456789abcdef0123456789abcdef.tmp"));
        Assert.False(AtomicFile.IsTemporary(".x.0123456789ABCDEF0123456789abcdef.tmp"));
        Assert.False(AtomicFile.IsTemporary(".x.tmp"));
    }

    [Fact]
    public void Temporary_names_are_hidden_short_and_recognised()
    {
        var emoji = string.Concat(Enumerable.Repeat("\U0001F600", 30)); // surrogate pairs across the cut
        foreach (var name in new[] { "meta.yaml", "m", new string('k', 250), emoji })
        {
            var temp = AtomicFile.TempName(name);
            Assert.StartsWith(".", temp);
            Assert.True(AtomicFile.IsTemporary(temp), temp);
            Assert.True(Encoding.UTF8.GetByteCount(temp) < 255, temp);
            Assert.DoesNotContain('\uFFFD', Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(temp))); // no half pair
        }
        Assert.NotEqual(AtomicFile.TempName("m"), AtomicFile.TempName("m"));
    }
}
