using AlexNet.Pipeline.Api;
using AlexNet.Pipeline.Functions.Durable;
using AlexNet.Pipeline.Labeling.Interchange;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.DurableTask.Client;

namespace AlexNet.Pipeline.Functions.Api;

/// <summary>Labeling tools' formats over HTTP (function keys), thin over <see cref="PipelineApi"/>: export a batch's labels, import an export.</summary>
public sealed class LabelToolHttpFunctions(PipelineApiFactory apis)
{
    /// <summary>GET /api/export/{batch}/{tool}[?review=true]: the batch's labels as Label Studio tasks (JSON) or CVAT tags (XML).</summary>
    [Function(nameof(ExportLabels))]
    public async Task<HttpResponseData> ExportLabels(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "export/{batch}/{tool}")] HttpRequestData request,
        string batch,
        string tool,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        string? review = request.Query["review"];
        bool reviewOnly = false;
        if (!string.IsNullOrEmpty(review) && !bool.TryParse(review, out reviewOnly))
            return await HttpResults.WriteErrorAsync(request, 400, $"review must be true or false, not '{review}'", cancellationToken).ConfigureAwait(false);
        ApiResult<BinaryContent> result = await Api(client).ExportLabelsAsync(batch, tool, reviewOnly, cancellationToken).ConfigureAwait(false);
        return await HttpResults.WriteContentAsync(request, result, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST /api/import/{dataset}/{tool}[?source=container/prefix], body the tool's export: copies its annotated images into training/.</summary>
    [Function(nameof(ImportAnnotations))]
    public async Task<HttpResponseData> ImportAnnotations(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "import/{dataset}/{tool}")] HttpRequestData request,
        string dataset,
        string tool,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        byte[]? body = await HttpResults.ReadBodyAsync(request, RequestBodies.MaxExportBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
            return await HttpResults.WriteErrorAsync(request, 413, $"the export is over {RequestBodies.MaxExportBytes} bytes", cancellationToken).ConfigureAwait(false);
        ApiResult<AnnotationImportResult> result = await Api(client).ImportAnnotationsAsync(dataset, tool, body, request.Query["source"], cancellationToken).ConfigureAwait(false);
        return await HttpResults.WriteAsync(request, result, ApiJsonContext.Default.AnnotationImportResult, cancellationToken).ConfigureAwait(false);
    }

    private PipelineApi Api(DurableTaskClient client) => apis.Create(new FunctionsOrchestrationClient(client));
}
