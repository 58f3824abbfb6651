using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using TorchSharp;

namespace Peft.Clip.Text;

/// <summary>
/// The CLIP byte-level BPE tokenizer, matching openai/CLIP <c>SimpleTokenizer</c> and <c>clip.tokenize</c> id for id.
/// </summary>
/// <remarks>
/// Text is normalised as CLIP does (ftfy, HTML unescaping, whitespace collapsing, lower-casing), split by CLIP's
/// pre-tokeniser regex, and each piece is BPE-encoded over its UTF-8 bytes. One difference remains: ftfy's
/// heuristic mojibake repair is not implemented (see <see cref="Ftfy"/>), so text such as "schÃ¶n" is encoded as
/// written rather than as "schön". Instances are immutable apart from a thread-safe BPE cache.
/// </remarks>
public sealed class ClipTokenizer : Peft.Core.ITextTokenizer
{
    /// <summary>Id of <c>&lt;|startoftext|&gt;</c>.</summary>
    public const int StartOfText = 49406;

    /// <summary>Id of <c>&lt;|endoftext|&gt;</c>.</summary>
    public const int EndOfText = 49407;

    /// <summary>Number of token ids: 256 byte symbols, 256 end-of-word byte symbols, 48,894 merges, 2 specials.</summary>
    public const int VocabSize = 49408;

    /// <summary>Number of merges CLIP uses from its BPE file (<c>49152 - 256 - 2</c>).</summary>
    public const int MergeCount = VocabSize - 512 - 2;

    /// <summary>CLIP's text context length.</summary>
    public const int DefaultContextLength = 77;

    private const string EndOfWord = "</w>";
    private const string ResourceName = "bpe_simple_vocab_16e6.txt.gz";
    private const int MaxCacheEntries = 1 << 18;

    private static readonly Lazy<ClipTokenizer> LazyDefault = new(LoadDefault, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string[] _decoder;                  // id → token string (byte symbols, "</w>" marks word ends)
    private readonly Dictionary<long, Merge> _merges;     // (left id, right id) → rank and merged id
    private readonly int[] _byteIds = new int[256];       // byte → id of its symbol inside a word
    private readonly int[] _byteEndIds = new int[256];    // byte → id of its symbol ending a word
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    private readonly record struct Merge(int Rank, int Id);

    private ClipTokenizer(string[] decoder, Dictionary<string, int> encoder, List<(string Left, string Right)> merges, string source)
    {
        _decoder = decoder;
        for (int b = 0; b < 256; b++)
        {
            string symbol = ByteUnicodeMap.ByteToChar[b].ToString();
            _byteIds[b] = Lookup(encoder, symbol, source);
            _byteEndIds[b] = Lookup(encoder, symbol + EndOfWord, source);
        }
        _merges = new Dictionary<long, Merge>(merges.Count);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            int l = Lookup(encoder, left, source), r = Lookup(encoder, right, source);
            _merges[Key(l, r)] = new Merge(rank, Lookup(encoder, left + right, source)); // a repeated merge keeps its last rank, like Python's dict
        }
        if (!encoder.TryGetValue(ClipTextCleaner.StartOfTextToken, out int sot) || sot != StartOfText
            || !encoder.TryGetValue(ClipTextCleaner.EndOfTextToken, out int eot) || eot != EndOfText)
            throw new InvalidDataException($"{source}: expected {ClipTextCleaner.StartOfTextToken} = {StartOfText} and {ClipTextCleaner.EndOfTextToken} = {EndOfText}.");
    }

    /// <summary>The tokenizer for CLIP's own vocabulary, embedded in this assembly (loaded once, on first use).</summary>
    public static ClipTokenizer Default => LazyDefault.Value;

    /// <summary>Loads CLIP's <c>bpe_simple_vocab_16e6.txt.gz</c> (a header line, then one merge per line).</summary>
    public static ClipTokenizer FromBpeFile(string gzPath)
    {
        if (!File.Exists(gzPath)) throw new FileNotFoundException($"CLIP BPE vocabulary not found: {gzPath}", gzPath);
        using var stream = File.OpenRead(gzPath);
        return FromBpeStream(stream, gzPath);
    }

    /// <summary>
    /// Loads a Hugging Face CLIPTokenizer folder: <c>vocab.json</c> (token → id) and <c>merges.txt</c>
    /// (a <c>#version</c> header, then one merge per line). All merges after the header are used.
    /// </summary>
    public static ClipTokenizer FromHuggingFace(string folder)
    {
        string vocabPath = Path.Combine(folder, "vocab.json"), mergesPath = Path.Combine(folder, "merges.txt");
        foreach (var path in new[] { vocabPath, mergesPath })
            if (!File.Exists(path)) throw new FileNotFoundException($"Hugging Face tokenizer file not found: {path}", path);

        Dictionary<string, int> encoder;
        try
        {
            encoder = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllBytes(vocabPath))
                ?? throw new InvalidDataException($"{vocabPath}: expected a JSON object mapping tokens to ids.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{vocabPath}: not a JSON object mapping tokens to ids ({e.Message}).", e);
        }
        if (encoder.Count != VocabSize)
            throw new InvalidDataException($"{vocabPath}: {encoder.Count} entries, expected CLIP's {VocabSize}.");
        var decoder = new string[VocabSize];
        foreach (var (token, id) in encoder)
        {
            if (id < 0 || id >= VocabSize) throw new InvalidDataException($"{vocabPath}: id {id} of \"{token}\" is outside 0..{VocabSize - 1}.");
            if (decoder[id] != null) throw new InvalidDataException($"{vocabPath}: id {id} is used by both \"{decoder[id]}\" and \"{token}\".");
            decoder[id] = token;
        }

        var lines = File.ReadAllText(mergesPath, Encoding.UTF8).Split('\n');
        if (lines.Length == 0 || !lines[0].StartsWith("#version", StringComparison.Ordinal))
            throw new InvalidDataException($"{mergesPath}: missing the \"#version\" header line that starts a merges file.");
        var merges = ParseMerges(lines, 1, lines.Length, mergesPath, skipEmpty: true);
        return new ClipTokenizer(decoder, encoder, merges, $"{vocabPath} / {mergesPath}");
    }

    /// <summary>Encodes one text to BPE ids, without start/end tokens (<c>SimpleTokenizer.encode</c>).</summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        foreach (var piece in ClipTextCleaner.PreTokenize(ClipTextCleaner.Normalize(text)))
        {
            if (piece == ClipTextCleaner.StartOfTextToken) ids.Add(StartOfText);
            else if (piece == ClipTextCleaner.EndOfTextToken) ids.Add(EndOfText);
            else ids.AddRange(Bpe(piece));
        }
        return ids.ToArray();
    }

    /// <summary>
    /// Decodes ids to text (<c>SimpleTokenizer.decode</c>): invalid UTF-8 becomes U+FFFD, each end of word a space.
    /// </summary>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            if (id < 0 || id >= _decoder.Length || _decoder[id] is null)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is not in the vocabulary (0..{_decoder.Length - 1}).");
            foreach (char c in _decoder[id])
            {
                int b = ByteUnicodeMap.CharToByte(c);
                if (b < 0) throw new InvalidDataException($"Vocabulary token {id} (\"{_decoder[id]}\") contains '{c}', which stands for no byte.");
                bytes.Add((byte)b);
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray()).Replace(EndOfWord, " ");
    }

    /// <summary>Normalises text exactly as CLIP does before pre-tokenisation (exposed for diagnostics).</summary>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return ClipTextCleaner.Normalize(text);
    }

    /// <summary>
    /// <c>clip.tokenize</c>: each row is <c>[StartOfText, ids..., EndOfText]</c> zero-padded to <paramref name="contextLength"/>.
    /// </summary>
    /// <param name="texts">Texts to tokenize.</param>
    /// <param name="contextLength">Row length (77 for every CLIP model).</param>
    /// <param name="truncate">Cut over-long rows to <paramref name="contextLength"/>, ending them with <see cref="EndOfText"/>.</param>
    /// <exception cref="ArgumentException">A text is too long and <paramref name="truncate"/> is false.</exception>
    public long[,] Tokenize(IReadOnlyList<string> texts, int contextLength = DefaultContextLength, bool truncate = false)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 1);
        var result = new long[texts.Count, contextLength];
        for (int row = 0; row < texts.Count; row++)
        {
            int[] ids = Encode(texts[row] ?? throw new ArgumentException($"texts[{row}] is null.", nameof(texts)));
            int total = ids.Length + 2;
            if (total > contextLength && !truncate)
                throw new ArgumentException(
                    $"Input {row} (\"{Preview(texts[row])}\") is too long for context length {contextLength}: " +
                    $"{total} tokens including start and end of text. Shorten it or pass truncate: true.", nameof(texts));
            int n = Math.Min(total, contextLength);
            result[row, 0] = StartOfText;
            for (int k = 1; k < n; k++) result[row, k] = k - 1 < ids.Length ? ids[k - 1] : EndOfText;
            result[row, n - 1] = EndOfText; // also the truncated case: the last kept id is forced to end of text
        }
        return result;
    }

    /// <summary><see cref="Tokenize(IReadOnlyList{string}, int, bool)"/> as an Int64 tensor of shape [N, contextLength].</summary>
    public torch.Tensor TokenizeToTensor(IReadOnlyList<string> texts, int contextLength = DefaultContextLength, bool truncate = false)
    {
        var rows = Tokenize(texts, contextLength, truncate);
        var flat = new long[rows.Length];
        Buffer.BlockCopy(rows, 0, flat, 0, flat.Length * sizeof(long));
        return torch.tensor(flat, [texts.Count, contextLength], torch.int64);
    }

    // Byte-level BPE of one pre-token, as SimpleTokenizer.bpe: repeatedly merge every occurrence (left to right)
    // of the adjacent pair with the lowest merge rank. Symbols are vocabulary ids, which identify strings 1:1.
    private int[] Bpe(string piece)
    {
        if (_cache.TryGetValue(piece, out var cached)) return cached;
        byte[] bytes = Encoding.UTF8.GetBytes(piece);
        var word = new List<int>(bytes.Length);
        for (int i = 0; i < bytes.Length; i++)
            word.Add(i == bytes.Length - 1 ? _byteEndIds[bytes[i]] : _byteIds[bytes[i]]);
        var next = new List<int>(bytes.Length);
        while (word.Count > 1)
        {
            Merge best = new(int.MaxValue, -1);
            long bestKey = 0;
            for (int i = 0; i + 1 < word.Count; i++)
            {
                long key = Key(word[i], word[i + 1]);
                if (_merges.TryGetValue(key, out var m) && m.Rank < best.Rank) { best = m; bestKey = key; }
            }
            if (best.Id < 0) break;
            int first = (int)(bestKey >> 32), second = (int)bestKey;
            next.Clear();
            for (int i = 0; i < word.Count;)
            {
                if (word[i] == first && i + 1 < word.Count && word[i + 1] == second) { next.Add(best.Id); i += 2; }
                else next.Add(word[i++]);
            }
            (word, next) = (next, word);
        }
        var result = word.ToArray();
        if (_cache.Count < MaxCacheEntries) _cache.TryAdd(piece, result);
        return result;
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    private static int Lookup(Dictionary<string, int> encoder, string token, string source) =>
        encoder.TryGetValue(token, out int id) ? id
            : throw new InvalidDataException($"{source}: token \"{token}\" (needed by the byte alphabet or a merge) is missing from the vocabulary.");

    private static string Preview(string text) => text.Length <= 60 ? text : text[..60] + "…";

    private static ClipTokenizer LoadDefault()
    {
        using var stream = typeof(ClipTokenizer).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource {ResourceName} is missing from {typeof(ClipTokenizer).Assembly.GetName().Name}.");
        return FromBpeStream(stream, $"embedded {ResourceName}");
    }

    // CLIP's vocabulary: 256 byte symbols, the same with "</w>", one string per merge, then the two specials.
    private static ClipTokenizer FromBpeStream(Stream stream, string source)
    {
        // Only the header and the first MergeCount lines are used; the file holds ~262k, so stop reading early.
        var lines = new List<string>(MergeCount + 1);
        try
        {
            using var gz = new GZipStream(stream, CompressionMode.Decompress);
            using var reader = new StreamReader(gz, new UTF8Encoding(false, throwOnInvalidBytes: true));
            while (lines.Count < MergeCount + 1 && reader.ReadLine() is { } line) lines.Add(line);
        }
        catch (Exception e) when (e is InvalidDataException or DecoderFallbackException)
        {
            throw new InvalidDataException($"{source}: not a gzip-compressed UTF-8 BPE merges file ({e.Message}).", e);
        }
        if (lines.Count < MergeCount + 1)
            throw new InvalidDataException($"{source}: {Math.Max(0, lines.Count - 1)} merge lines, CLIP needs {MergeCount}.");
        var merges = ParseMerges(lines, 1, MergeCount + 1, source, skipEmpty: false);

        var decoder = new string[VocabSize];
        int n = 0;
        foreach (byte b in ByteUnicodeMap.VocabOrder) decoder[n++] = ByteUnicodeMap.ByteToChar[b].ToString();
        foreach (byte b in ByteUnicodeMap.VocabOrder) decoder[n++] = ByteUnicodeMap.ByteToChar[b] + EndOfWord;
        foreach (var (left, right) in merges) decoder[n++] = left + right;
        decoder[n++] = ClipTextCleaner.StartOfTextToken;
        decoder[n] = ClipTextCleaner.EndOfTextToken;
        var encoder = new Dictionary<string, int>(VocabSize, StringComparer.Ordinal);
        for (int id = 0; id < decoder.Length; id++) encoder[decoder[id]] = id; // a repeated string keeps its last id, like Python
        return new ClipTokenizer(decoder, encoder, merges, source);
    }

    private static List<(string, string)> ParseMerges(IReadOnlyList<string> lines, int from, int to, string source, bool skipEmpty)
    {
        var merges = new List<(string, string)>(to - from);
        for (int i = from; i < to; i++)
        {
            var parts = lines[i].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0 && skipEmpty) continue;
            if (parts.Length != 2)
                throw new InvalidDataException($"{source}: line {i + 1} is \"{lines[i].TrimEnd()}\", expected two space-separated symbols.");
            merges.Add((parts[0], parts[1]));
        }
        return merges;
    }
}
