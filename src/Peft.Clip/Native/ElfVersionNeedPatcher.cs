using System.Buffers.Binary;
using System.Text;

namespace Peft.Clip.Native;

/// <summary>
/// Rewrites one entry of an ELF64 shared object's version-needed table (<c>.gnu.version_r</c>) so that a
/// requirement on a symbol version the system library lacks names an older version the library also needs.
/// Used for TorchSharp 0.107's <c>libLibTorchSharp.so</c>, built with GCC 13: its only <c>GLIBCXX_3.4.32</c>
/// symbol (<c>std::ios_base_library_init</c>) has no relocation, so the loader never resolves it, and
/// Debian 12's libstdc++ (GCC 12) stops at <c>GLIBCXX_3.4.30</c>. See README, "Debian 12 and TorchSharp".
/// </summary>
public static class ElfVersionNeedPatcher
{
    const uint ShtGnuVerneed = 0x6ffffffe;

    /// <summary>The version names the file requires from <paramref name="library"/> (e.g. libstdc++.so.6).</summary>
    public static IReadOnlyList<string> RequiredVersions(byte[] elf, string library)
    {
        var result = new List<string>();
        foreach (var aux in EnumerateAux(elf, library)) result.Add(aux.Name);
        return result;
    }

    /// <summary>
    /// Replaces the requirement <paramref name="from"/> by <paramref name="to"/> in the records for
    /// <paramref name="library"/>. Returns false when the file does not require <paramref name="from"/>.
    /// The string <paramref name="to"/> must already be in the dynamic string table (it is when the library
    /// also requires that version), so the file keeps its size and layout.
    /// </summary>
    public static bool Rewrite(byte[] elf, string library, string from, string to)
    {
        var hits = EnumerateAux(elf, library).Where(a => a.Name == from).ToList();
        if (hits.Count == 0) return false;
        var (dynstrOffset, dynstrSize) = DynStr(elf);
        int toOffset = FindString(elf, dynstrOffset, dynstrSize, to);
        if (toOffset < 0)
            throw new InvalidDataException($"ELF dynamic string table has no '{to}'; cannot retarget '{from}'.");
        foreach (var aux in hits)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(aux.Offset), ElfHash(to));
            BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(aux.Offset + 8), (uint)toOffset);
        }
        return true;
    }

    /// <summary>The classic SysV ELF hash used in <c>vna_hash</c>.</summary>
    public static uint ElfHash(string name)
    {
        uint h = 0;
        foreach (byte c in Encoding.ASCII.GetBytes(name))
        {
            h = (h << 4) + c;
            uint g = h & 0xf0000000;
            if (g != 0) h ^= g >> 24;
            h &= ~g;
        }
        return h;
    }

    readonly record struct Aux(int Offset, string Name);

    static IEnumerable<Aux> EnumerateAux(byte[] elf, string library)
    {
        var (verneedOffset, verneedCount, strOffset, strSize) = Verneed(elf);
        int vn = verneedOffset;
        for (int i = 0; i < verneedCount; i++)
        {
            ushort cnt = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(vn + 2));
            uint file = BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(vn + 4));
            uint auxRel = BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(vn + 8));
            uint next = BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(vn + 12));
            if (ReadString(elf, strOffset, strSize, file) == library)
            {
                int a = vn + (int)auxRel;
                for (int j = 0; j < cnt; j++)
                {
                    uint name = BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(a + 8));
                    uint anext = BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(a + 12));
                    yield return new Aux(a, ReadString(elf, strOffset, strSize, name));
                    if (anext == 0) break;
                    a += (int)anext;
                }
            }
            if (next == 0) break;
            vn += (int)next;
        }
    }

    static (int offset, int count, int strOffset, int strSize) Verneed(byte[] elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("only little-endian ELF64 is supported");
        foreach (var s in Sections(elf))
        {
            if (s.Type != ShtGnuVerneed) continue;
            var link = Sections(elf).ElementAt((int)s.Link);
            return ((int)s.Offset, (int)s.Info, (int)link.Offset, (int)link.Size);
        }
        throw new InvalidDataException("ELF file has no .gnu.version_r section");
    }

    static (int offset, int size) DynStr(byte[] elf)
    {
        var (_, _, o, n) = Verneed(elf);
        return (o, n);
    }

    readonly record struct Section(uint Type, ulong Offset, ulong Size, uint Link, uint Info);

    static IEnumerable<Section> Sections(byte[] elf)
    {
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(0x28));
        ushort shentsize = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x3A));
        ushort shnum = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x3C));
        for (int i = 0; i < shnum; i++)
        {
            var h = elf.AsSpan((int)shoff + i * shentsize);
            yield return new Section(
                BinaryPrimitives.ReadUInt32LittleEndian(h[4..]),
                BinaryPrimitives.ReadUInt64LittleEndian(h[0x18..]),
                BinaryPrimitives.ReadUInt64LittleEndian(h[0x20..]),
                BinaryPrimitives.ReadUInt32LittleEndian(h[0x28..]),
                BinaryPrimitives.ReadUInt32LittleEndian(h[0x2C..]));
        }
    }

    static string ReadString(byte[] elf, int tableOffset, int tableSize, uint index)
    {
        int start = tableOffset + (int)index, end = start;
        while (end < tableOffset + tableSize && elf[end] != 0) end++;
        return Encoding.ASCII.GetString(elf, start, end - start);
    }

    static int FindString(byte[] elf, int tableOffset, int tableSize, string s)
    {
        var needle = Encoding.ASCII.GetBytes(s + "\0");
        var span = elf.AsSpan(tableOffset, tableSize);
        for (int i = span.IndexOf(needle); i >= 0;)
        {
            if (i == 0 || span[i - 1] == 0) return i; // a whole string, not a suffix
            int j = span[(i + 1)..].IndexOf(needle);
            i = j < 0 ? -1 : i + 1 + j;
        }
        return -1;
    }
}
