using AlexNet.Pipeline.Api;
using AlexNet.Pipeline.Functions.Durable;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.DurableTask.Client;

namespace AlexNet.Pipeline.Functions.Api;

/// <summary>
/// The review loop over HTTP (function keys, as the rest of the API), thin over <see cref="PipelineApi"/>: the review
/// page, a batch's review list, its images, and decisions.
/// </summary>
public sealed class ReviewHttpFunctions(PipelineApiFactory apis)
{
    /// <summary>The header App Service authentication sets to the signed-in caller; when present it is the reviewer.</summary>
    public const string PrincipalHeader = "X-MS-CLIENT-PRINCIPAL-NAME";

    /// <summary>GET /api/review: the review page (HTML); it calls the routes below with the key it was opened with.</summary>
    [Function(nameof(ReviewPage))]
    public static async Task<HttpResponseData> ReviewPage(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "review")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        HttpResponseData response = request.CreateResponse(System.Net.HttpStatusCode.OK);
        foreach (KeyValuePair<string, string> header in ReviewPageFile.Headers)
            response.Headers.Add(header.Key, header.Value);
        await response.Body.WriteAsync(ReviewPageFile.Bytes, cancellationToken).ConfigureAwait(false);
        return response;
    }

    /// <summary>GET /api/review/{batch}?order=&amp;label=&amp;state=&amp;offset=&amp;limit=: one page of the batch's review list, with progress.</summary>
    [Function(nameof(GetReviewList))]
    public async Task<HttpResponseData> GetReviewList(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "review/{batch}")] HttpRequestData request,
        string batch,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var query = request.Query;
        ApiResult<ReviewPageView> result = await Api(client).GetReviewPageAsync(
            batch, query["order"], query["label"], query["state"], query["offset"], query["limit"], cancellationToken).ConfigureAwait(false);
        return await HttpResults.WriteAsync(request, result, ApiJsonContext.Default.ReviewPageView, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GET /api/review/{batch}/images/{*path}: the bytes of a labeled image (bounded, recognised image types only).</summary>
    [Function(nameof(GetReviewImage))]
    public async Task<HttpResponseData> GetReviewImage(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "review/{batch}/images/{*path}")] HttpRequestData request,
        string batch,
        string path,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ApiResult<BinaryContent> result = await Api(client).GetReviewImageAsync(batch, path, cancellationToken).ConfigureAwait(false);
        HttpResponseData response = await HttpResults.WriteContentAsync(request, result, cancellationToken).ConfigureAwait(false);
        if (result.IsSuccess)
            response.Headers.Add("Cache-Control", "private, max-age=300");
        return response;
    }

    /// <summary>POST /api/review/{batch}/decisions/{*path}, body <c>{decision, reviewer, dataset}</c>: records the decision.</summary>
    [Function(nameof(DecideReview))]
    public async Task<HttpResponseData> DecideReview(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "review/{batch}/decisions/{*path}")] HttpRequestData request,
        string batch,
        string path,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        byte[]? body = await HttpResults.ReadBodyAsync(request, RequestBodies.MaxBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
            return await HttpResults.WriteErrorAsync(request, 413, $"the body is over {RequestBodies.MaxBytes} bytes", cancellationToken).ConfigureAwait(false);
        ApiResult<ReviewDecisionInput?> input = PipelineApi.ReadReviewDecision(body);
        if (!input.IsSuccess)
            return await HttpResults.WriteErrorAsync(request, input.StatusCode, input.Error!, cancellationToken).ConfigureAwait(false);
        string? principal = request.Headers.TryGetValues(PrincipalHeader, out IEnumerable<string>? names) ? names.FirstOrDefault() : null;
        ApiResult<Labeling.ReviewRecord> result = await Api(client).DecideAsync(batch, path, input.Value, principal, cancellationToken).ConfigureAwait(false);
        return await HttpResults.WriteAsync(request, result, ApiJsonContext.Default.ReviewRecord, cancellationToken).ConfigureAwait(false);
    }

    private PipelineApi Api(DurableTaskClient client) => apis.Create(new FunctionsOrchestrationClient(client));
}
