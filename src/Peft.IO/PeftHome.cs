namespace Peft.IO;

/// <summary>
/// Where the program keeps shared state (models, the feature cache, split manifests):
/// <c>$PEFT_HOME/&lt;part&gt;</c>, else <c>$XDG_CACHE_HOME/peft/&lt;part&gt;</c>, else <c>~/.cache/peft/&lt;part&gt;</c>.
/// </summary>
public static class PeftHome
{
    public static string Resolve(string part, Func<string, string?>? env = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        var peftHome = env("PEFT_HOME");
        if (!string.IsNullOrWhiteSpace(peftHome)) return Path.GetFullPath(Path.Combine(peftHome, part));
        var xdg = env("XDG_CACHE_HOME");
        if (!string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg))
            return Path.GetFullPath(Path.Combine(xdg, "peft", part));
        var home = env("HOME");
        if (string.IsNullOrWhiteSpace(home)) home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.GetFullPath(Path.Combine(home, ".cache", "peft", part));
    }
}
