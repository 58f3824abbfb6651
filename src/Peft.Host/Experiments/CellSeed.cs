using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Peft.Host.Experiments;

/// <summary>
/// The seed of a cell's torch.Generator: the first 8 bytes of SHA-256 over (experiment, dataset, shots, seed, method).
/// Stable across processes, machines and shard layouts (string.GetHashCode is randomised per process), and different
/// for every method so two methods never draw the same initialisation by accident.
/// </summary>
public static class CellSeed
{
    public static ulong For(string experiment, string dataset, int shots, int seed, string method)
    {
        var text = string.Join('\0', experiment, dataset, shots.ToString(System.Globalization.CultureInfo.InvariantCulture),
            seed.ToString(System.Globalization.CultureInfo.InvariantCulture), method);
        return BinaryPrimitives.ReadUInt64LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }
}
