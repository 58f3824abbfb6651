using Peft.Data.Datasets;
using Peft.Data.Synthetic;

namespace Peft.Tests.Synthetic;

public sealed class SyntheticTaskReaderTests() : TempDirectory("peft-synthreader-")
{
    [Fact]
    public void Generates_the_task_images_on_first_use_and_reuses_them()
    {
        var root = Temp("world");
        var dataset = DatasetRegistry.Get("synth_shapes").Read(root);
        Assert.Equal(10, dataset.ClassNames.Count);
        Assert.Equal(10 * 50, dataset.Test.Count);
        Assert.False(Directory.Exists(Path.Combine(root, SyntheticWorld.PretrainFolder, "images")) &&
                     Directory.EnumerateFiles(Path.Combine(root, SyntheticWorld.PretrainFolder, "images")).Any());
        Assert.Empty(SyntheticWorld.Verify(root, images: true));
        var stamp = File.GetLastWriteTimeUtc(Path.Combine(root, SyntheticWorld.ManifestFileName));

        var fine = DatasetRegistry.Get("synth-fine").Read(root);
        Assert.Equal(12, fine.ClassNames.Count);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(root, SyntheticWorld.ManifestFileName)));
    }

    [Fact]
    public void Concurrent_first_uses_leave_one_world_and_no_temporary_folder()
    {
        var root = Temp("shared");
        var counts = new int[2];
        Parallel.For(0, 2, i => counts[i] = DatasetRegistry.Get("synth_shift").Read(root).Train.Count);
        Assert.Equal([1000, 1000], counts);
        Assert.Equal(["shared"], Directory.GetFileSystemEntries(Dir).Select(p => Path.GetFileName(p)!).ToArray());
        Assert.Empty(SyntheticWorld.Verify(root));
    }

    [Fact]
    public void A_folder_with_other_content_is_refused_and_left_alone()
    {
        var root = Temp("taken");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "notes.txt"), "mine");
        var e = Assert.Throws<DatasetFormatException>(() => DatasetRegistry.Get("synth_shapes").Read(root));
        Assert.Contains("not a synthetic world", e.Message);
        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(root).Select(p => Path.GetFileName(p)!).ToArray());
    }
}
