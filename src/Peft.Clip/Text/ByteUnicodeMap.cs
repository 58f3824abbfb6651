namespace Peft.Clip.Text;

/// <summary>
/// GPT-2/CLIP <c>bytes_to_unicode</c>: a reversible map from the 256 byte values to printable characters,
/// so byte-level BPE never has to handle whitespace or control characters.
/// </summary>
internal static class ByteUnicodeMap
{
    /// <summary>Byte values in vocabulary order: the "printable" bytes first, then the rest. Index = token id.</summary>
    internal static readonly byte[] VocabOrder;

    /// <summary>The character standing for each byte value.</summary>
    internal static readonly char[] ByteToChar = new char[256];

    /// <summary>Inverse of <see cref="ByteToChar"/>: -1 for characters that stand for no byte.</summary>
    private static readonly short[] CharToByteTable = new short[512];

    static ByteUnicodeMap()
    {
        var order = new List<byte>(256);
        for (int b = 0; b < 256; b++)
            if (IsIdentity(b)) { order.Add((byte)b); ByteToChar[b] = (char)b; }
        int n = 0;
        for (int b = 0; b < 256; b++)
            if (!IsIdentity(b)) { order.Add((byte)b); ByteToChar[b] = (char)(256 + n++); }
        VocabOrder = order.ToArray();
        Array.Fill(CharToByteTable, (short)-1);
        for (int b = 0; b < 256; b++) CharToByteTable[ByteToChar[b]] = (short)b;
    }

    /// <summary>Bytes '!'..'~', '¡'..'¬' and '®'..'ÿ' keep their own code point.</summary>
    internal static bool IsIdentity(int b) => b is >= 33 and <= 126 or >= 161 and <= 172 or >= 174 and <= 255;

    /// <summary>The byte a character stands for, or -1.</summary>
    internal static int CharToByte(char c) => c < CharToByteTable.Length ? CharToByteTable[c] : -1;
}
