using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Peft.Tests.Models;

/// <summary>A request as the test server saw it.</summary>
public sealed record TestRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers)
{
    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var v) ? v : null;

    /// <summary>N of a <c>Range: bytes=N-</c> header, or null without one.</summary>
    public long? RangeStart
    {
        get
        {
            var r = Header("Range");
            if (r is null || !r.StartsWith("bytes=", StringComparison.Ordinal)) return null;
            var spec = r["bytes=".Length..];
            int dash = spec.IndexOf('-');
            return long.Parse(spec[..dash], CultureInfo.InvariantCulture);
        }
    }
}

/// <summary>What the test server answers. <see cref="CutAfter"/> sends only that many body bytes, then closes the
/// connection (gracefully, or with a TCP reset when <see cref="Reset"/>).</summary>
public sealed class TestResponse
{
    public int Status { get; init; } = 200;
    public Dictionary<string, string> Headers { get; init; } = new(StringComparer.OrdinalIgnoreCase);
    public byte[] Body { get; init; } = [];
    public int? CutAfter { get; init; }
    public bool Reset { get; init; }

    public static TestResponse Text(int status, string text = "") => new() { Status = status, Body = Encoding.UTF8.GetBytes(text) };

    public static TestResponse Redirect(string location, int status = 302, Dictionary<string, string>? headers = null)
    {
        var h = new Dictionary<string, string>(headers ?? new(), StringComparer.OrdinalIgnoreCase) { ["Location"] = location };
        return new TestResponse { Status = status, Headers = h };
    }

    /// <summary>Serves <paramref name="content"/> like a static file server: 206 for <c>Range: bytes=N-</c>
    /// (416 when N is past the end), 200 otherwise or when <paramref name="honorRange"/> is false.</summary>
    public static TestResponse File(TestRequest request, byte[] content, bool honorRange = true, int? cutAfter = null,
        bool reset = false, Dictionary<string, string>? headers = null)
    {
        var h = new Dictionary<string, string>(headers ?? new(), StringComparer.OrdinalIgnoreCase) { ["Accept-Ranges"] = "bytes" };
        if (honorRange && request.RangeStart is long start)
        {
            if (start >= content.Length)
            {
                h["Content-Range"] = $"bytes */{content.Length}";
                return new TestResponse { Status = 416, Headers = h };
            }
            h["Content-Range"] = $"bytes {start}-{content.Length - 1}/{content.Length}";
            return new TestResponse { Status = 206, Headers = h, Body = content[(int)start..], CutAfter = cutAfter, Reset = reset };
        }
        return new TestResponse { Status = 200, Headers = h, Body = content, CutAfter = cutAfter, Reset = reset };
    }
}

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 over a raw <see cref="TcpListener"/> (so a test can cut a connection in
/// the middle of a body). One request per connection (<c>Connection: close</c>); records every request.
/// </summary>
public sealed class TestHttpServer : IDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<TestRequest, TestResponse> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TestRequest> _requests = [];
    private readonly Task _loop;

    public TestHttpServer(Func<TestRequest, TestResponse> handler)
    {
        _handler = handler;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        BaseUrl = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _loop = Task.Run(AcceptLoop);
    }

    public Uri BaseUrl { get; }

    public IReadOnlyList<TestRequest> Requests
    {
        get { lock (_requests) return _requests.ToList(); }
    }

    public Uri Url(string path) => new(BaseUrl, path.TrimStart('/'));

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(TcpClient client)
    {
        using var _ = client;
        try
        {
            var stream = client.GetStream();
            var request = await ReadRequest(stream);
            if (request is null) return;
            lock (_requests) _requests.Add(request);
            TestResponse response;
            try { response = _handler(request); }
            catch (Exception ex) { response = TestResponse.Text(500, ex.ToString()); }

            var head = new StringBuilder();
            head.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {response.Status} {Reason(response.Status)}\r\n");
            foreach (var (k, v) in response.Headers) head.Append(CultureInfo.InvariantCulture, $"{k}: {v}\r\n");
            if (!response.Headers.ContainsKey("Content-Length"))
                head.Append(CultureInfo.InvariantCulture, $"Content-Length: {response.Body.Length}\r\n");
            head.Append("Connection: close\r\n\r\n");
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
            if (request.Method != "HEAD")
            {
                int n = Math.Min(response.CutAfter ?? response.Body.Length, response.Body.Length);
                await stream.WriteAsync(response.Body.AsMemory(0, n));
            }
            await stream.FlushAsync();
            if (response.CutAfter is not null && response.Reset)
            {
                client.Client.LingerState = new LingerOption(true, 0); // close() sends RST
                return;
            }
            client.Client.Shutdown(SocketShutdown.Send);
        }
        catch (IOException) { }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
    }

    private static async Task<TestRequest?> ReadRequest(NetworkStream stream)
    {
        var buffer = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            int n = await stream.ReadAsync(one);
            if (n == 0) return null;
            buffer.Add(one[0]);
            int c = buffer.Count;
            if (c >= 4 && buffer[c - 4] == '\r' && buffer[c - 3] == '\n' && buffer[c - 2] == '\r' && buffer[c - 1] == '\n') break;
            if (c > 64 * 1024) return null;
        }
        var lines = Encoding.ASCII.GetString(buffer.ToArray()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var parts = lines[0].Split(' ');
        var headers = new Dictionary<string, string>();
        foreach (var line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon > 0) headers[line[..colon].Trim().ToLowerInvariant()] = line[(colon + 1)..].Trim();
        }
        return new TestRequest(parts[0], parts[1], headers); // the path as sent (still %-escaped)
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK", 206 => "Partial Content", 302 => "Found", 307 => "Temporary Redirect", 401 => "Unauthorized",
        404 => "Not Found", 416 => "Range Not Satisfiable", 500 => "Internal Server Error", 503 => "Service Unavailable",
        _ => "Status",
    };

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try { _loop.Wait(TimeSpan.FromSeconds(2)); } catch (AggregateException) { }
        _stop.Dispose();
    }
}
