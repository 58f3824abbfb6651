using System.Buffers.Binary;

namespace Peft.Data.Synthetic;

/// <summary>
/// Writes 8-bit RGB PNGs with our own deflate (LZ77 with hash chains, fixed Huffman codes). The bytes depend only on
/// the pixels: zlib builds (zlib-ng, Chromium's zlib in Skia) may pick different matches on different CPUs, which
/// would break the "same seed, same files" promise. Any PNG decoder reads the result.
/// </summary>
public static class PngWriter
{
    static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    /// <summary>Encodes <paramref name="rgb"/> (row-major, 3 bytes per pixel) as a PNG file's bytes.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> rgb, int width, int height)
    {
        if (width <= 0 || height <= 0 || rgb.Length != width * height * 3)
            throw new ArgumentException($"expected {width}×{height}×3 bytes, got {rgb.Length}");
        int stride = width * 3;
        var raw = new byte[(stride + 1) * height];
        var best = new byte[stride];
        var trial = new byte[stride];
        var zeros = new byte[stride];
        for (int y = 0; y < height; y++)
        {
            var row = rgb.Slice(y * stride, stride);
            ReadOnlySpan<byte> prior = y == 0 ? zeros : rgb.Slice((y - 1) * stride, stride); // row −1 is all zero
            int bestFilter = -1;
            long bestScore = long.MaxValue;
            for (int f = 0; f < 5; f++)
            {
                long score = FilterRow(f, row, prior, trial);
                if (score < bestScore) { bestScore = score; bestFilter = f; (best, trial) = (trial, best); }
            }
            int o = y * (stride + 1);
            raw[o] = (byte)bestFilter;
            best.CopyTo(raw, o + 1);
        }

        var idat = Deflate.Zlib(raw);
        var png = new MemoryStream(idat.Length + 64);
        png.Write(Signature);
        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr[4..], height);
        ihdr[8] = 8; ihdr[9] = 2; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0; // 8-bit truecolour, no interlace
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", idat);
        Chunk(png, "IEND", ReadOnlySpan<byte>.Empty);
        return png.ToArray();
    }

    /// <summary>Applies PNG filter <paramref name="f"/> to a row; returns the sum of |filtered byte| (as signed), the usual heuristic.</summary>
    static long FilterRow(int f, ReadOnlySpan<byte> row, ReadOnlySpan<byte> prior, byte[] dst)
    {
        int n = row.Length;
        switch (f)
        {
            case 0: row.CopyTo(dst); break;
            case 1:
                for (int i = 0; i < n; i++) dst[i] = (byte)(row[i] - (i >= 3 ? row[i - 3] : 0));
                break;
            case 2:
                for (int i = 0; i < n; i++) dst[i] = (byte)(row[i] - prior[i]);
                break;
            case 3:
                for (int i = 0; i < n; i++) dst[i] = (byte)(row[i] - (((i >= 3 ? row[i - 3] : 0) + prior[i]) >> 1));
                break;
            default:
                for (int i = 0; i < n; i++)
                    dst[i] = (byte)(row[i] - (i >= 3 ? Paeth(row[i - 3], prior[i], prior[i - 3]) : prior[i]));
                break;
        }
        long score = 0;
        for (int i = 0; i < n; i++) score += dst[i] < 128 ? dst[i] : 256 - dst[i];
        return score;
    }

    static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    static void Chunk(Stream s, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(head, data.Length);
        for (int i = 0; i < 4; i++) head[4 + i] = (byte)type[i];
        s.Write(head);
        s.Write(data);
        uint crc = Crc32.Update(Crc32.Update(0xFFFFFFFFu, head[4..]), data) ^ 0xFFFFFFFFu;
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(tail, crc);
        s.Write(tail);
    }

    static class Crc32
    {
        static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
        {
            uint c = (uint)n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            return c;
        }).ToArray();

        public static uint Update(uint crc, ReadOnlySpan<byte> data)
        {
            foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            return crc;
        }
    }
}

/// <summary>A small deterministic deflate: greedy LZ77 over a 32 KiB window with bounded hash chains, one fixed-Huffman block.</summary>
static class Deflate
{
    const int MinMatch = 3, MaxMatch = 258, Window = 32768, HashBits = 14, MaxChain = 8, GoodEnough = 32;

    static readonly int[] LengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
    static readonly int[] LengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
    static readonly int[] DistBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
    static readonly int[] DistExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

    [ThreadStatic] static int[]? _head, _prev;

    /// <summary>A zlib stream (RFC 1950) holding <paramref name="data"/>.</summary>
    public static byte[] Zlib(byte[] data)
    {
        var w = new BitWriter(data.Length / 2 + 64);
        w.WriteByte(0x78); w.WriteByte(0x01);
        w.Bits(1, 1); // BFINAL
        w.Bits(1, 2); // BTYPE = 01, fixed Huffman
        var head = _head ??= new int[1 << HashBits];
        Array.Fill(head, -1);
        if (_prev is null || _prev.Length < data.Length) _prev = new int[data.Length];
        var prev = _prev;
        int pos = 0;
        while (pos < data.Length)
        {
            int bestLen = 0, bestDist = 0;
            if (pos + MinMatch <= data.Length)
            {
                int h = Hash(data, pos);
                int limit = Math.Min(MaxMatch, data.Length - pos);
                for (int cand = head[h], chain = 0; cand >= 0 && pos - cand <= Window && chain < MaxChain; cand = prev[cand], chain++)
                {
                    int len = 0;
                    while (len < limit && data[cand + len] == data[pos + len]) len++;
                    if (len > bestLen) { bestLen = len; bestDist = pos - cand; if (len >= GoodEnough) break; }
                }
                prev[pos] = head[h];
                head[h] = pos;
            }
            if (bestLen >= MinMatch)
            {
                WriteMatch(w, bestLen, bestDist);
                for (int k = 1; k < bestLen; k++) // index the skipped positions too
                {
                    int p = pos + k;
                    if (p + MinMatch > data.Length) break;
                    int h = Hash(data, p);
                    prev[p] = head[h];
                    head[h] = p;
                }
                pos += bestLen;
            }
            else
            {
                WriteSymbol(w, data[pos]);
                pos++;
            }
        }
        WriteSymbol(w, 256);
        w.AlignToByte();
        uint adler = Adler32(data);
        w.WriteByte((byte)(adler >> 24)); w.WriteByte((byte)(adler >> 16)); w.WriteByte((byte)(adler >> 8)); w.WriteByte((byte)adler);
        return w.ToArray();
    }

    static int Hash(byte[] d, int p) => (int)(((uint)d[p] << 16 | (uint)d[p + 1] << 8 | d[p + 2]) * 2654435761u >> (32 - HashBits));

    // The fixed literal/length code (RFC 1951 3.2.6), bit-reversed once because Huffman codes go most significant bit first.
    static readonly (int Bits, int Length)[] LiteralCodes = Enumerable.Range(0, 288).Select(sym =>
    {
        var (code, n) = sym < 144 ? (0x30 + sym, 8) : sym < 256 ? (0x190 + sym - 144, 9) : sym < 280 ? (sym - 256, 7) : (0xC0 + sym - 280, 8);
        return (Reverse(code, n), n);
    }).ToArray();

    static int Reverse(int code, int n)
    {
        int rev = 0;
        for (int i = 0; i < n; i++) rev |= ((code >> i) & 1) << (n - 1 - i);
        return rev;
    }

    static void WriteSymbol(BitWriter w, int sym)
    {
        var (bits, n) = LiteralCodes[sym];
        w.Bits(bits, n);
    }

    static void WriteMatch(BitWriter w, int len, int dist)
    {
        int li = LengthBase.Length - 1;
        while (LengthBase[li] > len) li--;
        WriteSymbol(w, 257 + li);
        if (LengthExtra[li] > 0) w.Bits(len - LengthBase[li], LengthExtra[li]);
        int di = DistBase.Length - 1;
        while (DistBase[di] > dist) di--;
        w.Bits(Reverse(di, 5), 5);
        if (DistExtra[di] > 0) w.Bits(dist - DistBase[di], DistExtra[di]);
    }

    static uint Adler32(byte[] data)
    {
        uint a = 1, b = 0;
        for (int start = 0; start < data.Length; start += 5552) // 5552: the longest run without 32-bit overflow
        {
            int end = Math.Min(data.Length, start + 5552);
            for (int i = start; i < end; i++) { a += data[i]; b += a; }
            a %= 65521;
            b %= 65521;
        }
        return b << 16 | a;
    }

    sealed class BitWriter(int capacity)
    {
        byte[] _bytes = new byte[Math.Max(capacity, 64)];
        int _length;
        uint _acc;
        int _count;

        /// <summary>Writes the low <paramref name="n"/> bits of <paramref name="value"/>, least significant first.</summary>
        public void Bits(int value, int n)
        {
            _acc |= (uint)value << _count;
            _count += n;
            while (_count >= 8) { WriteByte((byte)_acc); _acc >>= 8; _count -= 8; }
        }

        public void AlignToByte()
        {
            if (_count > 0) { WriteByte((byte)_acc); _acc = 0; _count = 0; }
        }

        public void WriteByte(byte b)
        {
            if (_length == _bytes.Length) Array.Resize(ref _bytes, _bytes.Length * 2);
            _bytes[_length++] = b;
        }

        public byte[] ToArray() => _bytes.AsSpan(0, _length).ToArray();
    }
}
