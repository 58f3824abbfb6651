namespace Peft.Host.Experiments;

/// <summary>
/// MLflow's system tags for the runs peft opens, so the MLflow UI's User, Source and Version columns fill as they do
/// for runs started by MLflow's own client (mlflow/tracking/context/default_context.py and git_context.py):
/// <c>mlflow.user</c>, <c>mlflow.source.name</c> (the experiment file), <c>mlflow.source.type</c> = LOCAL and,
/// when the experiment file lies in a git work tree, <c>mlflow.source.git.commit</c> (read from .git, no git needed).
/// </summary>
public static class RunContextTags
{
    public const string User = "mlflow.user", SourceName = "mlflow.source.name", SourceType = "mlflow.source.type",
        GitCommit = "mlflow.source.git.commit";

    public static IReadOnlyDictionary<string, string> For(string? experimentFile)
    {
        var tags = new Dictionary<string, string> { [User] = Environment.UserName, [SourceType] = "LOCAL" };
        if (!string.IsNullOrEmpty(experimentFile))
        {
            var full = Path.GetFullPath(experimentFile);
            tags[SourceName] = full;
            if (GitHead(Path.GetDirectoryName(full)!) is { } commit) tags[GitCommit] = commit;
        }
        return tags;
    }

    /// <summary>The commit HEAD points to in the git work tree holding <paramref name="dir"/>, or null.</summary>
    public static string? GitHead(string dir)
    {
        try
        {
            for (var d = new DirectoryInfo(dir); d is not null; d = d.Parent)
            {
                var dotGit = Path.Combine(d.FullName, ".git");
                string? gitDir = Directory.Exists(dotGit) ? dotGit
                    : File.Exists(dotGit) && File.ReadAllText(dotGit).Trim() is var link && link.StartsWith("gitdir:", StringComparison.Ordinal)
                        ? Path.GetFullPath(Path.Combine(d.FullName, link["gitdir:".Length..].Trim()))
                        : null;
                if (gitDir is null) continue;
                var head = File.ReadAllText(Path.Combine(gitDir, "HEAD")).Trim();
                if (!head.StartsWith("ref:", StringComparison.Ordinal)) return IsSha(head) ? head : null;
                var name = head["ref:".Length..].Trim();
                // Worktrees keep refs in the common dir.
                var common = File.Exists(Path.Combine(gitDir, "commondir"))
                    ? Path.GetFullPath(Path.Combine(gitDir, File.ReadAllText(Path.Combine(gitDir, "commondir")).Trim()))
                    : gitDir;
                foreach (var root in new[] { gitDir, common })
                {
                    var loose = Path.Combine(root, name);
                    if (File.Exists(loose) && File.ReadAllText(loose).Trim() is var sha && IsSha(sha)) return sha;
                }
                var packed = Path.Combine(common, "packed-refs");
                if (File.Exists(packed))
                    foreach (var line in File.ReadLines(packed))
                        if (line.EndsWith(" " + name, StringComparison.Ordinal) && line.Split(' ')[0] is var sha && IsSha(sha)) return sha;
                return null;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return null;
    }

    static bool IsSha(string s) => s.Length is 40 or 64 && s.All(Uri.IsHexDigit);
}
