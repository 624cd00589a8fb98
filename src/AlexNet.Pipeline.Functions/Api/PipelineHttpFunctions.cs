using System.Net;
using AlexNet.Pipeline.Api;
using AlexNet.Pipeline.Functions.Durable;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.DurableTask.Client;

namespace AlexNet.Pipeline.Functions.Api;

/// <summary>
/// The HTTP API, thin over <see cref="PipelineApi"/>: each function reads its route and body, calls the API with an
/// orchestration client over the bound durable client, and writes the result. Reading and starting batches takes a
/// function key; what changes which model labels everything (promote, rollback) or spends GPU hours (retrain) takes
/// the admin (master) key, so a key handed to a downstream reader cannot promote, roll back or retrain. A start
/// answers with this API's own status address, never Durable Functions' webhook URLs (they carry the extension's
/// system key, enough to terminate or purge any orchestration).
/// </summary>
public sealed class PipelineHttpFunctions(PipelineApiFactory apis)
{
    /// <summary>Start-batch bodies are a few options; anything larger is not one.</summary>
    public const int MaxBodyBytes = RequestBodies.MaxBytes;

    /// <summary>POST /api/batches/{batch}: 202 with the batch's status address for a new run, 409 for an existing one.</summary>
    [Function(nameof(StartBatch))]
    public async Task<HttpResponseData> StartBatch(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "batches/{batch}")] HttpRequestData request,
        string batch,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        byte[]? body = await ReadBodyAsync(request, cancellationToken).ConfigureAwait(false);
        if (body is null)
            return await HttpResults.WriteErrorAsync(request, 413, $"the body is over {MaxBodyBytes} bytes", cancellationToken).ConfigureAwait(false);
        ApiResult<Orchestrations.LabelBatchInput?> options = PipelineApi.ReadBatchOptions(body);
        if (!options.IsSuccess)
            return await HttpResults.WriteErrorAsync(request, options.StatusCode, options.Error!, cancellationToken).ConfigureAwait(false);

        ApiResult<BatchStarted> result = await Api(client).StartBatchAsync(batch, options.Value, cancellationToken).ConfigureAwait(false);
        return result.StatusCode == (int)HttpStatusCode.Accepted
            ? await HttpResults.WriteStartedAsync(request, result.Value!.InstanceId, $"api/batches/{result.Value.InstanceId}", cancellationToken).ConfigureAwait(false)
            : await HttpResults.WriteAsync(request, result, ApiJsonContext.Default.BatchStarted, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GET /api/batches/{batch}: orchestration state and progress, and the summary once written.</summary>
    [Function(nameof(GetBatchStatus))]
    public async Task<HttpResponseData> GetBatchStatus(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "batches/{batch}")] HttpRequestData request,
        string batch,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        await HttpResults.WriteAsync(request, await Api(client).GetBatchStatusAsync(batch, cancellationToken).ConfigureAwait(false), ApiJsonContext.Default.BatchStatusView, cancellationToken).ConfigureAwait(false);

    /// <summary>GET /api/labels/{batch}/{*path}: the label and/or rejected record of one image.</summary>
    [Function(nameof(GetImageLabels))]
    public async Task<HttpResponseData> GetImageLabels(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "labels/{batch}/{*path}")] HttpRequestData request,
        string batch,
        string path,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        await HttpResults.WriteAsync(request, await Api(client).GetImageLabelsAsync(batch, path, cancellationToken).ConfigureAwait(false), ApiJsonContext.Default.ImageLabelsView, cancellationToken).ConfigureAwait(false);

    /// <summary>GET /api/models: published versions, newest first, and the current pointer.</summary>
    [Function(nameof(ListModels))]
    public async Task<HttpResponseData> ListModels(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models")] HttpRequestData request,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        await HttpResults.WriteAsync(request, await Api(client).ListModelsAsync(cancellationToken).ConfigureAwait(false), ApiJsonContext.Default.ModelsView, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// PUT /api/models/{version} (admin key): a model package as a tar stream (<c>application/x-tar</c>), at most
    /// <see cref="PipelineApi.MaxModelUploadBytes"/> (the Functions host's own request limit, 100 MB by default, may be lower).
    /// </summary>
    [Function(nameof(PublishModel))]
    public async Task<HttpResponseData> PublishModel(
        [HttpTrigger(AuthorizationLevel.Admin, "put", Route = "models/{version}")] HttpRequestData request,
        string version,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (RequestBodies.DeclaredLength(request.Headers.TryGetValues("Content-Length", out var length) ? length : null) > PipelineApi.MaxModelUploadBytes)
            return await HttpResults.WriteErrorAsync(request, 413, $"the package is over {PipelineApi.MaxModelUploadBytes} bytes; publish it with storage access (--storage)", cancellationToken).ConfigureAwait(false);
        return await HttpResults.WriteAsync(request, await Api(client).PublishModelAsync(version, request.Body, cancellationToken).ConfigureAwait(false), ApiJsonContext.Default.ModelPublished, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// POST /api/models/{version}/promote (admin key). Optional body: <c>{"reason": ...}</c> promotes by hand with the
    /// reason recorded; <c>{"dataset": ...}</c> puts the version through Retrain's gate (202 with the run's status address).
    /// </summary>
    [Function(nameof(PromoteModel))]
    public async Task<HttpResponseData> PromoteModel(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "models/{version}/promote")] HttpRequestData request,
        string version,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        byte[]? body = await ReadBodyAsync(request, cancellationToken).ConfigureAwait(false);
        if (body is null)
            return await HttpResults.WriteErrorAsync(request, 413, $"the body is over {MaxBodyBytes} bytes", cancellationToken).ConfigureAwait(false);
        ApiResult<PromoteRequest?> options = PipelineApi.ReadPromoteOptions(body);
        if (!options.IsSuccess)
            return await HttpResults.WriteErrorAsync(request, options.StatusCode, options.Error!, cancellationToken).ConfigureAwait(false);
        if (options.Value is not { Dataset: not null } gated)
            return await HttpResults.WriteAsync(request, await Api(client).PromoteAsync(version, options.Value, cancellationToken).ConfigureAwait(false), ApiJsonContext.Default.CurrentModelPointer, cancellationToken).ConfigureAwait(false);

        ApiResult<RetrainStarted> result = await Api(client).StartGatedPromotionAsync(version, gated, cancellationToken).ConfigureAwait(false);
        return result.StatusCode == (int)HttpStatusCode.Accepted
            ? await HttpResults.WriteStartedAsync(request, result.Value!.InstanceId, $"api/retrain/runs/{result.Value.InstanceId}", cancellationToken).ConfigureAwait(false)
            : await HttpResults.WriteAsync(request, result, ApiJsonContext.Default.RetrainStarted, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST /api/models/rollback (admin key).</summary>
    [Function(nameof(RollbackModel))]
    public async Task<HttpResponseData> RollbackModel(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "models/rollback")] HttpRequestData request,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        await HttpResults.WriteAsync(request, await Api(client).RollbackAsync(cancellationToken).ConfigureAwait(false), ApiJsonContext.Default.CurrentModelPointer, cancellationToken).ConfigureAwait(false);

    /// <summary>POST /api/retrain/{dataset}[?force=true], optional JSON body of retrain options (admin key): 202 with the run's status address.</summary>
    [Function(nameof(StartRetrain))]
    public async Task<HttpResponseData> StartRetrain(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "retrain/{dataset}")] HttpRequestData request,
        string dataset,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        string? forceText = request.Query["force"];
        bool force = false;
        if (!string.IsNullOrEmpty(forceText) && !bool.TryParse(forceText, out force))
            return await HttpResults.WriteErrorAsync(request, 400, $"force must be true or false, not '{forceText}'", cancellationToken).ConfigureAwait(false);

        byte[]? body = await ReadBodyAsync(request, cancellationToken).ConfigureAwait(false);
        if (body is null)
            return await HttpResults.WriteErrorAsync(request, 413, $"the body is over {MaxBodyBytes} bytes", cancellationToken).ConfigureAwait(false);
        ApiResult<Orchestrations.RetrainInput?> options = PipelineApi.ReadRetrainOptions(body);
        if (!options.IsSuccess)
            return await HttpResults.WriteErrorAsync(request, options.StatusCode, options.Error!, cancellationToken).ConfigureAwait(false);

        ApiResult<RetrainStarted> result = await Api(client).StartRetrainAsync(dataset, force, options.Value, cancellationToken).ConfigureAwait(false);
        return result.StatusCode == (int)HttpStatusCode.Accepted
            ? await HttpResults.WriteStartedAsync(request, result.Value!.InstanceId, $"api/retrain/runs/{result.Value.InstanceId}", cancellationToken).ConfigureAwait(false)
            : await HttpResults.WriteAsync(request, result, ApiJsonContext.Default.RetrainStarted, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GET /api/retrain/runs/{instanceId}: a retraining run's state, phase and result.</summary>
    [Function(nameof(GetRetrainStatus))]
    public async Task<HttpResponseData> GetRetrainStatus(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "retrain/runs/{instanceId}")] HttpRequestData request,
        string instanceId,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        await HttpResults.WriteAsync(request, await Api(client).GetRetrainStatusAsync(instanceId, cancellationToken).ConfigureAwait(false), ApiJsonContext.Default.RetrainStatusView, cancellationToken).ConfigureAwait(false);

    /// <summary>GET /api/images?label=&amp;minConfidence=&amp;model=&amp;offset=&amp;limit=: uploads found by their index tags.</summary>
    [Function(nameof(FindImages))]
    public async Task<HttpResponseData> FindImages(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "images")] HttpRequestData request,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var query = request.Query;
        ApiResult<ImagesView> result = await Api(client).FindImagesAsync(query["label"], query["minConfidence"], query["model"], query["offset"], query["limit"], cancellationToken).ConfigureAwait(false);
        return await HttpResults.WriteAsync(request, result, ApiJsonContext.Default.ImagesView, cancellationToken).ConfigureAwait(false);
    }

    private PipelineApi Api(DurableTaskClient client) => apis.Create(new FunctionsOrchestrationClient(client));

    private static Task<byte[]?> ReadBodyAsync(HttpRequestData request, CancellationToken cancellationToken) =>
        HttpResults.ReadBodyAsync(request, MaxBodyBytes, cancellationToken);
}
