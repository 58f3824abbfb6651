namespace Peft.Tests.Clip;

static class FixturePaths
{
    public static string Clip(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "clip", name);
}
