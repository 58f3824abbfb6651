using System.Text.Json;
using System.Text.Json.Nodes;

namespace Peft.Tracking.Rest;

/// <summary>A reply of the MLflow server: status, body, and the error code and message of an MLflow error body.</summary>
internal sealed record MlflowResponse(int Status, string Body)
{
    public bool IsSuccess => Status is >= 200 and < 300;

    /// <summary>The parsed JSON body; an empty body is <c>{}</c> (MLflow omits empty fields).</summary>
    public JsonObject Json()
    {
        if (string.IsNullOrWhiteSpace(Body)) return [];
        return JsonNode.Parse(Body) as JsonObject ?? throw new JsonException("the reply is not a JSON object");
    }

    public string? ErrorCode => TryErrorField("error_code");

    public string Describe()
    {
        var code = ErrorCode;
        var message = TryErrorField("message");
        if (code is not null || message is not null) return $"HTTP {Status} {code}: {message}";
        // Not an MLflow error body (proxy page, plain-text 503, empty 404): show its start.
        var text = string.Join(' ', Body.Split((char[])['\r', '\n', '\t', ' '], StringSplitOptions.RemoveEmptyEntries));
        return text.Length == 0 ? $"HTTP {Status} (empty reply)" : $"HTTP {Status}: {(text.Length > 200 ? text[..200] + "..." : text)}";
    }

    private string? TryErrorField(string name)
    {
        try
        {
            return JsonNode.Parse(Body) is JsonObject o && o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
