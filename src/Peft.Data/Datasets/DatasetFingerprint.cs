using System.Security.Cryptography;
using System.Text;

namespace Peft.Data.Datasets;

/// <summary>
/// SHA-256 of what a dataset is, independent of where it lives: its name, class names and the
/// (path, label, class) triples of every split in order. Two folders with the same content on two machines share it;
/// two different ImageFolders (both named "imagefolder") do not.
/// </summary>
public static class DatasetFingerprint
{
    public static string Of(ImageDataset dataset)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string s) => sha.AppendData(Encoding.UTF8.GetBytes(s + "\n"));
        Add(dataset.Name);
        foreach (var c in dataset.ClassNames) Add(c);
        foreach (var (split, items) in new[] { ("train", dataset.Train), ("val", dataset.Val), ("test", dataset.Test) })
        {
            Add($"[{split}]");
            foreach (var i in items) Add($"{i.ImagePath}\t{i.Label}\t{i.ClassName}");
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
