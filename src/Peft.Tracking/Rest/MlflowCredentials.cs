using System.Net.Http.Headers;
using System.Text;

namespace Peft.Tracking.Rest;

/// <summary>
/// Credentials as MLflow's Python client finds them (mlflow/utils/credentials.py, rest_utils.py): username and
/// password from MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD, each falling back to
/// <c>~/.mlflow/credentials</c> ([mlflow] mlflow_tracking_username / mlflow_tracking_password); a token from
/// MLFLOW_TRACKING_TOKEN. When both username and password are set, Basic auth is used and the token ignored.
/// </summary>
public sealed record MlflowCredentials(string? Username, string? Password, string? Token)
{
    public static MlflowCredentials None { get; } = new(null, null, null);

    /// <param name="home">The home folder holding <c>.mlflow/credentials</c> (default: the user's).</param>
    public static MlflowCredentials FromEnvironment(string? home = null)
    {
        home ??= Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var file = ReadCredentialsFile(Path.Combine(home, ".mlflow", "credentials"));
        return new MlflowCredentials(
            NonEmpty(Environment.GetEnvironmentVariable("MLFLOW_TRACKING_USERNAME")) ?? file.GetValueOrDefault("mlflow_tracking_username"),
            NonEmpty(Environment.GetEnvironmentVariable("MLFLOW_TRACKING_PASSWORD")) ?? file.GetValueOrDefault("mlflow_tracking_password"),
            NonEmpty(Environment.GetEnvironmentVariable("MLFLOW_TRACKING_TOKEN")));
    }

    /// <summary>The Authorization header to send, or null for none.</summary>
    public AuthenticationHeaderValue? Header()
    {
        if (!string.IsNullOrEmpty(Username) && !string.IsNullOrEmpty(Password))
            return new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Username}:{Password}")));
        return string.IsNullOrEmpty(Token) ? null : new AuthenticationHeaderValue("Bearer", Token);
    }

    // The [mlflow] section of an INI file; other sections are ignored.
    private static Dictionary<string, string> ReadCredentialsFile(string path)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (!File.Exists(path)) return values;
        string? section = null;
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';') continue;
            if (line.StartsWith('[') && line.EndsWith(']')) { section = line[1..^1].Trim(); continue; }
            int eq = line.IndexOfAny(['=', ':']);
            if (section == "mlflow" && eq > 0) values[line[..eq].Trim()] = line[(eq + 1)..].Trim();
        }
        return values;
    }

    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    // Never print secrets in logs or exception messages.
    public override string ToString() => $"MlflowCredentials(user: {Username ?? "-"}, password: {(Password is null ? "-" : "***")}, token: {(Token is null ? "-" : "***")})";
}
