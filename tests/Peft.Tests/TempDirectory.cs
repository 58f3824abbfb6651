namespace Peft.Tests;

/// <summary>A fresh temporary folder for one test class instance, deleted afterwards (xunit disposes the class).</summary>
public abstract class TempDirectory : IDisposable
{
    protected string Dir { get; }

    protected TempDirectory(string prefix) => Dir = Directory.CreateTempSubdirectory(prefix).FullName;

    protected string Temp(string name) => Path.Combine(Dir, name);

    public void Dispose()
    {
        Directory.Delete(Dir, recursive: true);
        GC.SuppressFinalize(this);
    }
}
