using Peft.Data.Datasets;
using Peft.IO;

namespace Peft.Data.Synthetic;

/// <summary>
/// One task of the synthetic world (<c>synth_shapes</c>, <c>synth_fine</c>, <c>synth_shift</c>) under a world folder.
/// If the folder holds no world yet, the default world's task images are generated there first (not its
/// pretraining set: a few seconds, deterministic), so an experiment on the synthetic tasks needs no preparation step.
/// </summary>
public sealed class SyntheticTaskReader(SyntheticTask task) : IDatasetReader
{
    public string Name => task.Name;

    public string Description => $"synthetic world task ({task.Description}); root = a 'peft data synth' folder, generated on first use if absent or empty";

    public bool CreatesMissingRoot => true;

    public ImageDataset Read(string root)
    {
        EnsureWorld(root);
        return new CoopLayoutReader().Read(Path.Combine(root, task.Name));
    }

    /// <summary>Whether <paramref name="root"/> holds a generated world (its manifest).</summary>
    public static bool IsGenerated(string root) => File.Exists(Path.Combine(Path.GetFullPath(root), SyntheticWorld.ManifestFileName));

    /// <summary>
    /// Generates the default world's tasks into <paramref name="root"/> unless it already holds a world. Generation
    /// goes to a sibling temporary folder that is renamed into place, so concurrent processes (shards) never see a
    /// half-written world: the first rename wins and the others discard their copy.
    /// </summary>
    /// <param name="progress">Told (images done, images in all) while a world is generated.</param>
    public static void EnsureWorld(string root, Action<int, int>? progress = null)
    {
        root = Path.GetFullPath(root);
        if (IsGenerated(root)) return;
        if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
            throw new DatasetFormatException(root, $"is not a synthetic world (no {SyntheticWorld.ManifestFileName}) and not empty; give an empty or absent folder, or one written by 'peft data synth'");
        var parent = Path.GetDirectoryName(root)!;
        Directory.CreateDirectory(parent);
        var temp = Path.Combine(parent, $".{Path.GetFileName(root)}.tmp-{Guid.NewGuid():N}");
        try
        {
            SyntheticWorld.Generate(temp, new SyntheticWorldOptions { PretrainCount = 0 }, progress: progress);
            if (!AtomicFile.PublishDirectory(temp, root) && !IsGenerated(root)) // false: another process won (its copy stays)
                throw new DatasetFormatException(root, "appeared while a synthetic world was being generated for it, and is not one; give an empty or absent folder");
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }
}
