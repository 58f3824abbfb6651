using Peft.Clip.Text;

namespace Peft.Tests.Text;

public class ByteUnicodeMapTests
{
    [Fact]
    public void PrintableBytesMapToThemselves()
    {
        var identity = Enumerable.Range(0, 256).Where(b => ByteUnicodeMap.ByteToChar[b] == b).ToList();
        Assert.Equal(188, identity.Count);
        Assert.Equal(Enumerable.Range(33, 94).Concat(Enumerable.Range(161, 12)).Concat(Enumerable.Range(174, 82)), identity);
    }

    [Fact]
    public void OtherBytesMapFrom256InByteOrder()
    {
        var others = Enumerable.Range(0, 256).Where(b => !ByteUnicodeMap.IsIdentity(b)).ToList();
        Assert.Equal(68, others.Count);
        Assert.Equal(Enumerable.Range(256, 68).Select(c => (char)c), others.Select(b => ByteUnicodeMap.ByteToChar[b]));
        Assert.Equal('Ā', ByteUnicodeMap.ByteToChar[0]);
        Assert.Equal('Ġ', ByteUnicodeMap.ByteToChar[' ']);   // the familiar GPT-2 space symbol
        Assert.Equal('\u0143', ByteUnicodeMap.ByteToChar[0xAD]); // soft hyphen, the last non-printable byte: 256 + 67
    }

    [Fact]
    public void MapIsReversibleAndVocabOrderPutsPrintableBytesFirst()
    {
        for (int b = 0; b < 256; b++) Assert.Equal(b, ByteUnicodeMap.CharToByte(ByteUnicodeMap.ByteToChar[b]));
        Assert.Equal(-1, ByteUnicodeMap.CharToByte(' '));
        Assert.Equal(-1, ByteUnicodeMap.CharToByte('猫'));
        Assert.Equal(256, ByteUnicodeMap.VocabOrder.Distinct().Count());
        Assert.Equal((byte)'!', ByteUnicodeMap.VocabOrder[0]);
        Assert.Equal((byte)0, ByteUnicodeMap.VocabOrder[188]);
    }
}
