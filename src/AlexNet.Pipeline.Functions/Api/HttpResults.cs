using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using AlexNet.Pipeline.Api;
using Microsoft.Azure.Functions.Worker.Http;

namespace AlexNet.Pipeline.Functions.Api;

/// <summary>Turns <see cref="ApiResult{T}"/> into HTTP responses: the value as JSON, or an <see cref="ApiError"/>.</summary>
internal static class HttpResults
{
    public static Task<HttpResponseData> WriteAsync<T>(HttpRequestData request, ApiResult<T> result, JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
        result.IsSuccess
            ? WriteJsonAsync(request, (HttpStatusCode)result.StatusCode, JsonSerializer.SerializeToUtf8Bytes(result.Value!, type), cancellationToken)
            : WriteErrorAsync(request, result.StatusCode, result.Error ?? "the request failed", cancellationToken);

    /// <summary>The request's body, or null when it is over <paramref name="maxBytes"/> (refused by its Content-Length before reading).</summary>
    public static Task<byte[]?> ReadBodyAsync(HttpRequestData request, int maxBytes, CancellationToken cancellationToken) =>
        RequestBodies.ReadAsync(
            request.Body,
            RequestBodies.DeclaredLength(request.Headers.TryGetValues("Content-Length", out IEnumerable<string>? values) ? values : null),
            maxBytes,
            cancellationToken);

    public static Task<HttpResponseData> WriteErrorAsync(HttpRequestData request, int status, string error, CancellationToken cancellationToken) =>
        WriteJsonAsync(request, (HttpStatusCode)status, JsonSerializer.SerializeToUtf8Bytes(new ApiError(status, error), ApiJsonContext.Default.ApiError), cancellationToken);

    /// <summary>
    /// 202 for a started orchestration: <c>Location</c> and <c>statusQueryGetUri</c> name this API's status route on the
    /// request's own host (never the durable extension's webhooks and their system key).
    /// </summary>
    public static async Task<HttpResponseData> WriteStartedAsync(HttpRequestData request, string id, string statusPath, CancellationToken cancellationToken)
    {
        string status = new Uri(request.Url, "/" + statusPath).AbsoluteUri;
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(new Started(id, status), ApiJsonContext.Default.Started);
        HttpResponseData response = await WriteJsonAsync(request, HttpStatusCode.Accepted, body, cancellationToken).ConfigureAwait(false);
        response.Headers.Add("Location", status);
        return response;
    }

    /// <summary>Bytes as they are (an image, an export file), never sniffed into another type; or the error.</summary>
    public static async Task<HttpResponseData> WriteContentAsync(HttpRequestData request, ApiResult<BinaryContent> result, CancellationToken cancellationToken)
    {
        if (!result.IsSuccess)
            return await WriteErrorAsync(request, result.StatusCode, result.Error ?? "the request failed", cancellationToken).ConfigureAwait(false);
        HttpResponseData response = request.CreateResponse(HttpStatusCode.OK);
        response.Headers.Add("Content-Type", result.Value!.ContentType);
        response.Headers.Add("X-Content-Type-Options", "nosniff");
        await response.Body.WriteAsync(result.Value.Bytes, cancellationToken).ConfigureAwait(false);
        return response;
    }

    private static async Task<HttpResponseData> WriteJsonAsync(HttpRequestData request, HttpStatusCode status, byte[] body, CancellationToken cancellationToken)
    {
        HttpResponseData response = request.CreateResponse(status);
        response.Headers.Add("Content-Type", "application/json; charset=utf-8");
        await response.Body.WriteAsync(body, cancellationToken).ConfigureAwait(false);
        return response;
    }
}
