using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AlexNet.Pipeline.Api;
using AlexNet.Pipeline.Models;
using Microsoft.AspNetCore.Http;

namespace AlexNet.Cli.Pipeline;

/// <summary>
/// Keeps the local API to the developer's own programs. It listens on 127.0.0.1 only, yet any web page the developer
/// visits could reach it: a page's form or script may POST to 127.0.0.1 (a `text/plain` body needs no CORS
/// preflight), and a DNS-rebinding page reaches it under its own host name. So every <c>/api</c> request must name
/// this address in <c>Host</c> (127.0.0.1, localhost or [::1] with this port), carry no foreign <c>Origin</c>, send any
/// body as <c>application/json</c> (a type a cross-site page cannot send without a preflight this host never
/// answers; a model upload sends <c>application/x-tar</c>, which needs one too), and, when <c>--api-token</c> (or ALEXNET_API_TOKEN) sets one, present it as <c>Authorization: Bearer</c> or
/// <c>?code=</c> (as the review page sends a key).
/// </summary>
internal sealed class LocalApiGuard(int port, string? token)
{
    private readonly byte[]? tokenBytes = string.IsNullOrEmpty(token) ? null : Encoding.UTF8.GetBytes(token);

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (context.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal) && Refusal(context.Request) is { } refusal)
        {
            context.Response.StatusCode = refusal.Status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(refusal, ApiJsonContext.Default.ApiError), context.RequestAborted);
            return;
        }
        await next(context);
    }

    private ApiError? Refusal(HttpRequest request)
    {
        string host = request.Host.Value ?? string.Empty;
        if (!IsOwnAuthority(host))
            return new ApiError(403, $"Host '{host}' is not this pipeline's address (http://127.0.0.1:{port})");
        string? origin = request.Headers.Origin;
        if (!string.IsNullOrEmpty(origin) && !(Uri.TryCreate(origin, UriKind.Absolute, out Uri? from) && from.Scheme == Uri.UriSchemeHttp && IsOwnAuthority(from.Authority)))
            return new ApiError(403, $"requests from the web page at {origin} are not accepted: the local API answers programs and its own pages only");
        if (tokenBytes is not null && !HasToken(request))
            return new ApiError(401, "this pipeline was started with an API token: send it as 'Authorization: Bearer <token>'");
        bool hasBody = request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0;
        string contentType = request.ContentType ?? string.Empty;
        if (hasBody && !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            && !(contentType.Equals(ModelPackageArchive.ContentType, StringComparison.OrdinalIgnoreCase) && IsModelUpload(request)))
            return new ApiError(415, $"the body must be JSON (Content-Type: application/json), not '{request.ContentType}'");
        return null;
    }

    /// <summary>A model package upload (PUT /api/models/&lt;version&gt;), whose tar body needs a preflight from a page as JSON does.</summary>
    private static bool IsModelUpload(HttpRequest request) =>
        HttpMethods.IsPut(request.Method) && request.Path.StartsWithSegments("/api/models", StringComparison.Ordinal);

    private bool IsOwnAuthority(string authority) =>
        authority == $"127.0.0.1:{port}" || authority == $"localhost:{port}" || authority == $"[::1]:{port}";

    /// <summary>
    /// The token as <c>Authorization: Bearer</c>, or as <c>?code=</c>, where the review page carries a Functions key (so
    /// the same page works against a pipeline started with a token).
    /// </summary>
    private bool HasToken(HttpRequest request)
    {
        string header = request.Headers.Authorization.ToString();
        const string Scheme = "Bearer ";
        string? given = header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ? header[Scheme.Length..].Trim() : request.Query["code"];
        return given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), tokenBytes);
    }
}
