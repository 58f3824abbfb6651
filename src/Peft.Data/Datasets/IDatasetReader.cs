namespace Peft.Data.Datasets;

/// <summary>Reads one kind of dataset folder (a CoOp dataset layout, an ImageFolder, ...).</summary>
public interface IDatasetReader
{
    /// <summary>The name users type (<c>oxford_pets</c>, <c>imagenet</c>, <c>imagefolder</c>, ...).</summary>
    string Name { get; }

    /// <summary>One line for listings: what it reads and where it expects it.</summary>
    string Description { get; }

    /// <summary>Reads the dataset under <paramref name="root"/>; errors name the file or folder at fault.</summary>
    ImageDataset Read(string root);

    /// <summary>True when <see cref="Read"/> creates its data in an absent or empty root (the synthetic tasks), so a
    /// missing root is not an error before the first read.</summary>
    bool CreatesMissingRoot => false;

    /// <summary>True when the root is a file rather than a folder (the <c>features</c> type).</summary>
    bool RootIsFile => false;
}
