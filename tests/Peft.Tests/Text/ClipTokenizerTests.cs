using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Peft.Clip.Text;
using TorchSharp;
using Xunit.Abstractions;

namespace Peft.Tests.Text;

public class ClipTokenizerTests(ITestOutputHelper output)
{
    static readonly ClipTokenizer Tok = ClipTokenizer.Default;
    static string VocabGz => Path.Combine(RepoRoot(), "data", "clip", "bpe_simple_vocab_16e6.txt.gz");

    static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Peft.Framework.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("Peft.Framework.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void ConstantsDescribeClipsVocabulary()
    {
        Assert.Equal(49408, ClipTokenizer.VocabSize);
        Assert.Equal(49406, ClipTokenizer.StartOfText);
        Assert.Equal(49407, ClipTokenizer.EndOfText);
        Assert.Equal(48894, ClipTokenizer.MergeCount);
        Assert.Equal("<|startoftext|>", Tok.Decode([ClipTokenizer.StartOfText]));
        Assert.Equal("<|endoftext|>", Tok.Decode([ClipTokenizer.EndOfText]));
        Assert.Equal("!", Tok.Decode([0]));          // first byte symbol
        Assert.Equal("! ", Tok.Decode([256]));       // same byte, end of word
        Assert.Throws<ArgumentOutOfRangeException>(() => Tok.Decode([ClipTokenizer.VocabSize]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tok.Decode([-1]));
    }

    [Fact]
    public void SpecialTokensInTextBecomeTheirIds()
    {
        Assert.Equal([ClipTokenizer.StartOfText, ClipTokenizer.EndOfText], Tok.Encode("<|startoftext|><|ENDOFTEXT|>"));
        Assert.DoesNotContain(ClipTokenizer.EndOfText, Tok.Encode("<|endoftext|")); // incomplete: plain punctuation
    }

    [Fact]
    public void EncodesKnownIds()
    {
        // "a photo of a cat." from the official tokenizer (also in the fixtures).
        Assert.Equal([320, 1125, 539, 320, 2368, 269], Tok.Encode("a photo of a cat."));
        Assert.Empty(Tok.Encode(""));
        Assert.Empty(Tok.Encode(" \t\n"));
        Assert.Equal("a photo of a cat . ", Tok.Decode(Tok.Encode("A Photo of a CAT.")));
    }

    [Fact]
    public void TokenizePadsWithZerosAndFramesWithSpecialTokens()
    {
        var rows = Tok.Tokenize(["a photo of a cat.", ""], contextLength: 10);
        Assert.Equal(new[] { 2, 10 }, new[] { rows.GetLength(0), rows.GetLength(1) });
        Assert.Equal(new long[] { 49406, 320, 1125, 539, 320, 2368, 269, 49407, 0, 0 }, Row(rows, 0));
        Assert.Equal(new long[] { 49406, 49407, 0, 0, 0, 0, 0, 0, 0, 0 }, Row(rows, 1));
        Assert.Equal(77, Tok.Tokenize(["x"]).GetLength(1));
        Assert.Equal(0, Tok.Tokenize([]).GetLength(0));
    }

    [Fact]
    public void TruncationKeepsTheFirstIdsAndEndsWithEndOfText()
    {
        var rows = Tok.Tokenize(["a photo of a cat."], contextLength: 5, truncate: true);
        Assert.Equal(new long[] { 49406, 320, 1125, 539, 49407 }, Row(rows, 0));
        // Exactly fitting is not truncation: 3 ids + 2 specials in 5.
        Assert.Equal(new long[] { 49406, 320, 1125, 539, 49407 }, Row(Tok.Tokenize(["a photo of"], contextLength: 5), 0));
        // Python's tokens[:1] then tokens[-1] = eot leaves just the end token.
        Assert.Equal(new long[] { 49407 }, Row(Tok.Tokenize(["a photo"], contextLength: 1, truncate: true), 0));
    }

    [Fact]
    public void TooLongTextThrowsWithItsStartAndTokenCount()
    {
        var text = string.Concat(Enumerable.Repeat("a ", 76)) + "end";
        var ex = Assert.Throws<ArgumentException>(() => Tok.Tokenize(["short", text]));
        Assert.Contains("Input 1", ex.Message);
        Assert.Contains("\"a a a a", ex.Message);
        Assert.Contains("…", ex.Message);                 // long texts are quoted only in part
        Assert.Contains("79 tokens", ex.Message);         // 77 ids + start + end
        Assert.Contains("context length 77", ex.Message);
        Assert.Equal("texts", ex.ParamName);
        Assert.Throws<ArgumentException>(() => Tok.Tokenize(["a photo of a cat."], contextLength: 7));
        Assert.Equal(7, Tok.Tokenize(["a photo of a cat."], contextLength: 7, truncate: true).GetLength(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tok.Tokenize(["x"], contextLength: 0));
    }

    [Fact]
    public void TensorOverloadMatchesArray()
    {
        string[] texts = ["a photo of a cat.", "two dogs 🐶🐶"];
        using var t = Tok.TokenizeToTensor(texts);
        Assert.Equal(torch.int64, t.dtype);
        Assert.Equal(new long[] { 2, 77 }, t.shape);
        var rows = Tok.Tokenize(texts);
        var data = t.data<long>().ToArray();
        for (int r = 0; r < 2; r++)
            Assert.Equal(Row(rows, r), data.Skip(r * 77).Take(77).ToArray());
    }

    [Fact]
    public void ConcurrentEncodingGivesTheSameIds()
    {
        var fresh = ClipTokenizer.FromBpeFile(VocabGz); // empty cache, so threads race to fill it
        var cases = TokenizerFixtures.All.Where(c => !c.NeedsMojibakeRepair).ToArray();
        var results = new int[cases.Length][];
        Parallel.For(0, cases.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => results[i] = fresh.Encode(cases[i].Text));
        for (int i = 0; i < cases.Length; i++) Assert.Equal(cases[i].Ids, results[i]);
    }

    [Fact]
    public void LoadsTheVocabularyQuickly()
    {
        ClipTokenizer.FromBpeFile(VocabGz); // warm-up: JIT
        // Best of three, so a busy test machine does not make the timing flaky.
        var best = TimeSpan.MaxValue;
        ClipTokenizer? tok = null;
        for (int i = 0; i < 3; i++)
        {
            var sw = Stopwatch.StartNew();
            tok = ClipTokenizer.FromBpeFile(VocabGz);
            if (sw.Elapsed < best) best = sw.Elapsed;
        }
        output.WriteLine($"FromBpeFile: {best.TotalMilliseconds:F1} ms (best of 3)");
        Assert.Equal(Tok.Encode("a photo of a cat."), tok!.Encode("a photo of a cat."));
        Assert.True(best < TimeSpan.FromSeconds(1), $"loading took {best}");
    }

    [Fact]
    public void MissingOrCorruptBpeFileGivesAClearError()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid(), "vocab.txt.gz");
        var ex1 = Assert.Throws<FileNotFoundException>(() => ClipTokenizer.FromBpeFile(missing));
        Assert.Contains(missing, ex1.Message);

        using var dir = new TempDir();
        var notGzip = dir.Write("plain.txt.gz", "not gzip at all");
        var ex2 = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromBpeFile(notGzip));
        Assert.Contains(notGzip, ex2.Message);

        var shortFile = Path.Combine(dir.Path, "short.txt.gz");
        WriteGz(shortFile, "header\na b\nab c\n");
        var ex3 = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromBpeFile(shortFile));
        Assert.Contains(shortFile, ex3.Message);
        Assert.Contains("48894", ex3.Message);

        var lines = ReadVocabLines();
        lines[5] = "onlyonesymbol";
        var badLine = Path.Combine(dir.Path, "bad.txt.gz");
        WriteGz(badLine, string.Join('\n', lines));
        var ex4 = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromBpeFile(badLine));
        Assert.Contains("line 6", ex4.Message);
        Assert.Contains(badLine, ex4.Message);
    }

    [Fact]
    public void HuggingFaceFolderGivesIdenticalIds()
    {
        using var dir = new TempDir();
        WriteHuggingFace(dir.Path, ReadVocabLines());
        var hf = ClipTokenizer.FromHuggingFace(dir.Path);
        foreach (var c in TokenizerFixtures.All.Where(c => !c.NeedsMojibakeRepair))
        {
            var ids = hf.Encode(c.Text);
            Assert.Equal(c.Ids, ids);
            Assert.Equal(c.Decoded, hf.Decode(ids));
        }
    }

    [Fact]
    public void BadHuggingFaceFolderGivesClearErrors()
    {
        using var dir = new TempDir();
        Assert.Contains("vocab.json", Assert.Throws<FileNotFoundException>(() => ClipTokenizer.FromHuggingFace(dir.Path)).Message);

        var lines = ReadVocabLines();
        WriteHuggingFace(dir.Path, lines);
        var merges = File.ReadAllLines(Path.Combine(dir.Path, "merges.txt"));
        File.WriteAllLines(Path.Combine(dir.Path, "merges.txt"), merges.Skip(1));
        var ex = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromHuggingFace(dir.Path));
        Assert.Contains("merges.txt", ex.Message);
        Assert.Contains("#version", ex.Message);

        // Drop the merged token of merge line 100 from vocab.json, keeping the count by adding a junk token.
        WriteHuggingFace(dir.Path, lines);
        var vocabPath = Path.Combine(dir.Path, "vocab.json");
        var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabPath))!;
        var merged = lines[100].Replace(" ", "");
        int id = vocab[merged];
        vocab.Remove(merged);
        vocab["junk-token"] = id;
        File.WriteAllText(vocabPath, JsonSerializer.Serialize(vocab));
        ex = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromHuggingFace(dir.Path));
        Assert.Contains("vocab.json", ex.Message);
        Assert.Contains($"\"{merged}\"", ex.Message);

        File.WriteAllText(vocabPath, "[1, 2");
        ex = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromHuggingFace(dir.Path));
        Assert.Contains("vocab.json", ex.Message);
    }

    [Fact]
    public void NormalizeFollowsClipsCleaning()
    {
        Assert.Equal("fish & chips \"quoted\" it's", ClipTokenizer.Normalize("  Fish &amp;amp; Chips\u00a0\u201cQuoted\u201d  it\u2019s\n"));
        Assert.Equal("loud noises", ClipTokenizer.Normalize("ＬＯＵＤ　ＮＯＩＳＥＳ"));
        Assert.Equal("a\uFFFDb", ClipTokenizer.Normalize("a\uD800b")); // lone surrogate, as ftfy's fix_surrogates
    }

    static long[] Row(long[,] rows, int r) => Enumerable.Range(0, rows.GetLength(1)).Select(k => rows[r, k]).ToArray();

    static string[] ReadVocabLines()
    {
        using var gz = new GZipStream(File.OpenRead(VocabGz), CompressionMode.Decompress);
        return new StreamReader(gz, Encoding.UTF8).ReadToEnd().Split('\n');
    }

    static void WriteGz(string path, string text)
    {
        using var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest);
        gz.Write(Encoding.UTF8.GetBytes(text));
    }

    // HF CLIPTokenizer layout built independently from the gz file: bytes_to_unicode order, "</w>" variants, merges, specials.
    static void WriteHuggingFace(string folder, string[] lines)
    {
        var byteChars = Enumerable.Range(0, 256).Where(ByteUnicodeMap.IsIdentity)
            .Select(b => ((char)b).ToString()).ToList();
        byteChars.AddRange(Enumerable.Range(0, 68).Select(n => ((char)(256 + n)).ToString()));
        var tokens = byteChars.Concat(byteChars.Select(c => c + "</w>"))
            .Concat(lines[1..(ClipTokenizer.MergeCount + 1)].Select(l => l.Replace(" ", "")))
            .Append("<|startoftext|>").Append("<|endoftext|>").ToList();
        var vocab = tokens.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i);
        File.WriteAllText(Path.Combine(folder, "vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllText(Path.Combine(folder, "merges.txt"),
            "#version: 0.2\n" + string.Join('\n', lines[1..(ClipTokenizer.MergeCount + 1)]) + "\n");
    }

    sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("peft-tok-").FullName;
        public string Write(string name, string text)
        {
            var p = System.IO.Path.Combine(Path, name);
            File.WriteAllText(p, text);
            return p;
        }
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
