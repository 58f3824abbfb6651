using Peft.Host.Experiments;

namespace Peft.Tests.Experiments;

public sealed class RunContextTagsTests() : TempDirectory("peft-runcontext-")
{
    const string ShaA = "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a", ShaB = "0123456789abcdef0123456789abcdef01234567";

    [Fact]
    public void The_git_commit_is_read_from_loose_and_packed_refs_and_a_detached_head()
    {
        var git = Directory.CreateDirectory(Temp("repo/.git/refs/heads")).Parent!.Parent!.FullName;
        Directory.CreateDirectory(Temp("repo/experiments/sub"));
        File.WriteAllText(Path.Combine(git, "HEAD"), "ref: refs/heads/main\n");
        File.WriteAllText(Path.Combine(git, "refs/heads/main"), ShaA + "\n");
        Assert.Equal(ShaA, RunContextTags.GitHead(Temp("repo/experiments/sub")));

        File.Delete(Path.Combine(git, "refs/heads/main"));
        File.WriteAllText(Path.Combine(git, "packed-refs"), $"# pack-refs with: peeled fully-peeled sorted\n{ShaB} refs/heads/main\n");
        Assert.Equal(ShaB, RunContextTags.GitHead(Temp("repo/experiments")));

        File.WriteAllText(Path.Combine(git, "HEAD"), ShaA + "\n");
        Assert.Equal(ShaA, RunContextTags.GitHead(Temp("repo")));

        // A worktree: .git is a file pointing at its git dir, whose refs live in the common dir.
        Directory.CreateDirectory(Temp("wt"));
        var wtGit = Directory.CreateDirectory(Path.Combine(git, "worktrees", "wt")).FullName;
        File.WriteAllText(Temp("wt/.git"), $"gitdir: {wtGit}\n");
        File.WriteAllText(Path.Combine(wtGit, "HEAD"), "ref: refs/heads/main\n");
        File.WriteAllText(Path.Combine(wtGit, "commondir"), "../..\n");
        Assert.Equal(ShaB, RunContextTags.GitHead(Temp("wt")));
    }

    [Fact]
    public void Tags_name_the_user_the_experiment_file_and_its_commit_and_no_commit_outside_git()
    {
        File.WriteAllText(Temp("exp.json"), "{}");
        var tags = RunContextTags.For(Temp("exp.json"));
        Assert.Equal(Environment.UserName, tags["mlflow.user"]);
        Assert.Equal("LOCAL", tags["mlflow.source.type"]);
        Assert.Equal(Temp("exp.json"), tags["mlflow.source.name"]);
        if (RunContextTags.GitHead(Dir) is null) Assert.False(tags.ContainsKey("mlflow.source.git.commit"));

        // The repository's own experiments carry the checkout's commit.
        var quickstart = Path.Combine(Peft.Tests.Cli.PeftProcess.Repository, "experiments", "quickstart.json");
        var inRepo = RunContextTags.For(quickstart);
        Assert.Equal(RunContextTags.GitHead(Peft.Tests.Cli.PeftProcess.Repository), inRepo.GetValueOrDefault("mlflow.source.git.commit"));
        Assert.Matches("^[0-9a-f]{40}$", inRepo["mlflow.source.git.commit"]);
    }
}
