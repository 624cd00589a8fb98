using System.Text.Json;
using System.Text.RegularExpressions;
using AlexNet.Pipeline.Functions.Api;
using AlexNet.Pipeline.Functions.Tests.Fixtures;

namespace AlexNet.Pipeline.Functions.Tests;

/// <summary>
/// The review page as the Functions app serves it, and the calls its script makes: each must be a route the host
/// indexes (<c>functions.metadata</c>) with that method, under the same function-key authorisation.
/// </summary>
public sealed partial class ReviewPageTests : IAsyncDisposable
{
    private readonly PipelineServices pipeline = new();

    [Fact]
    public async Task ThePageIsServedAsHtmlWithAPolicyThatKeepsItToItsOwnOrigin()
    {
        var request = new TestHttpRequest(new TestFunctionContext(pipeline.Services), "GET", "http://localhost/api/review?code=k");

        var response = (TestHttpResponse)await ReviewHttpFunctions.ReviewPage(request, CancellationToken.None);

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", Header(response, "Content-Type"));
        Assert.Contains("connect-src 'self'", Header(response, "Content-Security-Policy"), StringComparison.Ordinal);
        Assert.StartsWith("<!doctype html>", response.ReadBody(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryCallOfThePageIsAnIndexedRouteWithItsMethod()
    {
        string script = await PageScriptAsync();
        var routes = IndexedHttpRoutes();

        var calls = RouteCall().Matches(script).Select(m => (Template: Template(m.Groups["args"].Value), Method: m.Groups["post"].Success ? "post" : "get")).ToList();

        Assert.Equal(
            [("review/{}", "get"), ("review/{}/decisions/{}", "post"), ("review/{}/images/{}", "get")],
            calls.Distinct().OrderBy(c => c.Template, StringComparer.Ordinal));
        Assert.All(calls, call => Assert.Contains(routes, route => Matches(route.Route, call.Template) && route.Methods.Contains(call.Method)));
        // One way out to the network, through call() with the key, or an image through withKey(route(...)).
        Assert.Single(Regex.Matches(script, @"\bfetch\("));
        Assert.Contains("headers[\"x-functions-key\"] = key", script, StringComparison.Ordinal);
        Assert.Matches(@"img\.src = withKey\(route\(", script);
        Assert.DoesNotContain("http://", script, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", script, StringComparison.Ordinal);
        Assert.DoesNotContain("innerHTML", script, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThePageOffersTheKeyboardShortcutsItDocuments()
    {
        string script = await PageScriptAsync();

        Assert.Contains("/^[1-5]$/.test(event.key)", script, StringComparison.Ordinal);
        foreach (string key in new[] { "\"n\"", "\"o\"", "\"ArrowDown\"", "\"ArrowUp\"", "\"ArrowRight\"", "\"ArrowLeft\"", "\"j\"", "\"k\"" })
            Assert.Contains($"event.key === {key}", script, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync() => await pipeline.DisposeAsync();

    private async Task<string> PageScriptAsync()
    {
        var request = new TestHttpRequest(new TestFunctionContext(pipeline.Services), "GET", "http://localhost/api/review");
        string html = ((TestHttpResponse)await ReviewHttpFunctions.ReviewPage(request, CancellationToken.None)).ReadBody();
        Match script = Regex.Match(html, "<script>(?<body>.*)</script>", RegexOptions.Singleline);
        Assert.True(script.Success, "the page has no inline script");
        return script.Groups["body"].Value;
    }

    // route("review", state.batch, "images", item.path): literals stay, expressions become "{}".
    private static string Template(string args) =>
        string.Join('/', args.Split(',').Select(a => a.Trim()).Select(a => a.StartsWith('"') ? a.Trim('"') : "{}"));

    private static bool Matches(string route, string template)
    {
        string[] have = Regex.Replace(route, @"\{[^}]*\}", "{}").Split('/');
        string[] want = template.Split('/');
        return have.Length == want.Length && have.Zip(want).All(pair => pair.First == pair.Second);
    }

    private static List<(string Route, HashSet<string> Methods)> IndexedHttpRoutes()
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "functions.metadata")));
        return [.. document.RootElement.EnumerateArray()
            .SelectMany(f => f.GetProperty("bindings").EnumerateArray())
            .Where(b => b.GetProperty("type").GetString() == "httpTrigger")
            .Select(b => (b.GetProperty("route").GetString()!, b.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToLowerInvariant()).ToHashSet()))];
    }

    private static string Header(TestHttpResponse response, string name) =>
        response.Headers.TryGetValues(name, out IEnumerable<string>? values) ? string.Join(",", values) : string.Empty;

    [GeneratedRegex(@"\broute\((?<args>""review""[^()]*)\)(?<post>,\s*\{\s*method:\s*""POST"")?")]
    private static partial Regex RouteCall();
}
