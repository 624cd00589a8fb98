using AlexNet.Cli.Pipeline;
using Microsoft.AspNetCore.Http;

namespace AlexNet.Cli.Tests;

/// <summary>
/// What the local pipeline's API lets through (<see cref="LocalApiGuard"/>): before it, any web page the developer
/// visited could promote, roll back or retrain through 127.0.0.1, and a DNS-rebinding page could read the labels.
/// </summary>
public sealed class LocalApiGuardTests
{
    private const int Port = 7071;

    public static TheoryData<string, string, string, string?, string?, int> Requests() => new()
    {
        // method, path, Host, Origin, Content-Type (a body when set), expected status (200: passed on)
        { "GET", "/api/models", "127.0.0.1:7071", null, null, 200 },
        { "GET", "/api/models", "localhost:7071", "http://localhost:7071", null, 200 },
        { "POST", "/api/batches/b", "127.0.0.1:7071", null, "application/json; charset=utf-8", 200 },
        { "GET", "/api/models", "evil.example:7071", null, null, 403 },            // DNS rebinding
        { "GET", "/api/models", "127.0.0.1:8080", null, null, 403 },
        { "POST", "/api/models/rollback", "127.0.0.1:7071", "http://evil.example", null, 403 },
        { "POST", "/api/models/rollback", "127.0.0.1:7071", "null", null, 403 },  // sandboxed frames and file pages
        { "POST", "/api/batches/b", "127.0.0.1:7071", null, "text/plain", 415 },  // a form or fetch without preflight
        { "POST", "/api/batches/b", "127.0.0.1:7071", null, "application/x-www-form-urlencoded", 415 },
        { "PUT", "/api/models/v1", "127.0.0.1:7071", null, "application/x-tar", 200 },     // a model package: tar needs a preflight too
        { "POST", "/api/batches/b", "127.0.0.1:7071", null, "application/x-tar", 415 },    // only the model upload takes tar
        { "PUT", "/api/models/v1", "127.0.0.1:7071", "http://evil.example", "application/x-tar", 403 },
        { "GET", "/health/live", "evil.example:7071", null, null, 200 },          // only the API is guarded
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task OnlyThisMachinesProgramsAndPagesReachTheApi(string method, string path, string host, string? origin, string? contentType, int expected)
    {
        HttpContext context = Request(method, path, host, origin, contentType);
        Assert.Equal(expected, await RunAsync(new LocalApiGuard(Port, token: null), context));
    }

    [Fact]
    public async Task WithATokenEveryApiRequestMustPresentIt()
    {
        var guard = new LocalApiGuard(Port, "0123456789abcdef0123");
        HttpContext none = Request("GET", "/api/models", "127.0.0.1:7071", null, null);
        HttpContext wrong = Request("GET", "/api/models", "127.0.0.1:7071", null, null);
        wrong.Request.Headers.Authorization = "Bearer 0123456789abcdef0124";
        HttpContext right = Request("GET", "/api/models", "127.0.0.1:7071", null, null);
        right.Request.Headers.Authorization = "Bearer 0123456789abcdef0123";

        HttpContext page = Request("GET", "/api/review/b", "127.0.0.1:7071", null, null);
        page.Request.QueryString = new QueryString("?code=0123456789abcdef0123");

        Assert.Equal(200, await RunAsync(guard, page)); // the review page carries a key as ?code=
        Assert.Equal(401, await RunAsync(guard, none));
        Assert.Equal(401, await RunAsync(guard, wrong));
        Assert.Equal(200, await RunAsync(guard, right));
    }

    private static HttpContext Request(string method, string path, string host, string? origin, string? contentType)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        context.Request.Host = HostString.FromUriComponent(host);
        if (origin is not null)
            context.Request.Headers.Origin = origin;
        if (contentType is not null)
        {
            context.Request.ContentType = contentType;
            context.Request.ContentLength = 2;
            context.Request.Body = new MemoryStream("{}"u8.ToArray());
        }
        context.Response.Body = new MemoryStream();
        return context;
    }

    /// <summary>The status the guard answers, or 200 when it passed the request on.</summary>
    private static async Task<int> RunAsync(LocalApiGuard guard, HttpContext context)
    {
        bool passed = false;
        await guard.InvokeAsync(context, _ =>
        {
            passed = true;
            return Task.CompletedTask;
        });
        return passed ? 200 : context.Response.StatusCode;
    }
}
