using System.Text.Json;
using Peft.Data.Datasets;
using SkiaSharp;

namespace Peft.Tests.Datasets;

/// <summary>Writes tiny fake dataset trees (2x2 PNG bytes under any image name) into a temporary folder.</summary>
public abstract class DatasetTreeTests(string prefix) : TempDirectory(prefix)
{
    static readonly Lazy<byte[]> TinyPng = new(() =>
    {
        using var bmp = new SKBitmap(2, 2);
        bmp.Erase(new SKColor(200, 30, 40));
        using var image = SKImage.FromBitmap(bmp);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    });

    /// <summary>Writes a decodable tiny image at <paramref name="relative"/> (below the temp folder) and returns its full path.</summary>
    protected string Image(string relative)
    {
        string path = Temp(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, TinyPng.Value);
        return path;
    }

    protected string Text(string relative, string content)
    {
        string path = Temp(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>A CoOp split file from (path, label, classname) triples; images are created below <paramref name="imageRoot"/> when given.</summary>
    protected string Split(string relative, (string, int, string)[] train, (string, int, string)[] val, (string, int, string)[] test, string? imageRoot = null)
    {
        if (imageRoot is not null)
            foreach (var (p, _, _) in train.Concat(val).Concat(test))
                Image(Path.Combine(imageRoot, p));
        static object[][] Rows((string p, int l, string c)[] items) => items.Select(i => new object[] { i.p, i.l, i.c }).ToArray();
        return Text(relative, JsonSerializer.Serialize(new { train = Rows(train), val = Rows(val), test = Rows(test) }));
    }

    protected static void AssertItem(DatasetItem item, string path, int label, string className)
    {
        Assert.Equal(path, item.ImagePath);
        Assert.Equal(label, item.Label);
        Assert.Equal(className, item.ClassName);
    }

    protected static DatasetFormatException Fails(Action read) => Assert.Throws<DatasetFormatException>(read);
}
