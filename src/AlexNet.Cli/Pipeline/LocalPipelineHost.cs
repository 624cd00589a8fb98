using System.Text.Json;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Api;
using AlexNet.Pipeline.Durable;
using AlexNet.Pipeline.Hosting;
using AlexNet.Pipeline.Ingest;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Labeling.Interchange;
using AlexNet.Pipeline.Metering;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Orchestrations;
using AlexNet.Pipeline.Resilience;
using AlexNet.Pipeline.Worker;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AlexNet.Cli.Pipeline;

/// <summary>Settings of the whole system on one machine.</summary>
/// <param name="ConnectionString">The storage account of everything: Azurite's development account by default.</param>
/// <param name="LatencyProfile">
/// A chaos latency profile (<c>Chaos:LatencyProfile</c>) to install over the pipeline's blob store and queues, switched
/// off until <see cref="AlexNet.Pipeline.Resilience.ChaosInjector.Active"/> is set (the bench's second pass); null for none.
/// </param>
internal sealed record LocalPipelineSettings(
    int Port, string TaskHub, TimeSpan SweepInterval, string WorkFolder, LogLevel LogLevel, int BatchSize = 64,
    string ConnectionString = LocalPipelineHost.DevelopmentStorage, string? ApiToken = null, string? LatencyProfile = null);

/// <summary>
/// The whole system in one process on Azurite: upload ingest (a sweep of <c>incoming</c>, standing in for the
/// Event Grid trigger), the worker's label and train loops, the orchestrations on the local durable engine (the same
/// classes the Functions app runs) and the HTTP API on 127.0.0.1. Storage is the standard development account unless
/// another is given, so any Azure Storage client can upload to <c>incoming/&lt;batch&gt;/</c> and read <c>labels/</c>.
/// </summary>
internal static class LocalPipelineHost
{
    public const string DevelopmentStorage = "UseDevelopmentStorage=true";

    public static WebApplication Build(LocalPipelineSettings settings)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = Environment.CurrentDirectory });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:Backend"] = "azure",
            ["Storage:ConnectionString"] = settings.ConnectionString,
            // No Service Bus emulator runs here: Azurite's Storage Queues carry the same messages.
            ["Messaging:Backend"] = "storagequeue",
            ["Durable:TaskHubName"] = settings.TaskHub,
            ["Durable:MaxQueuePollingInterval"] = "00:00:01",
            ["Worker:Device"] = "auto",
            ["Worker:BatchSize"] = settings.BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Worker:ReceiveWait"] = "00:00:01",
            ["Worker:ModelRefreshInterval"] = "00:00:03",
            ["Worker:WorkFolder"] = settings.WorkFolder,
            ["Worker:Name"] = "local-worker",
            ["Logging:LogLevel:Default"] = settings.LogLevel.ToString(),
            ["Logging:LogLevel:Microsoft"] = "Warning",
            ["Logging:LogLevel:DurableTask"] = "Warning",
            ["Logging:LogLevel:DurableTask.AzureStorage"] = "Warning",
            ["Logging:LogLevel:DurableTask.Core"] = "Warning",
            ["Logging:LogLevel:Azure"] = "Warning",
            // Existence checks answer 404 by design; the SDK logs each as a warning.
            ["Logging:LogLevel:Azure.Core"] = "Error",
            // A failing readiness check is the answer of /health/ready, not an error of the process.
            ["Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks"] = "Critical",
            // Until the first model is promoted the worker waits and says so; the demo promotes one itself.
            ["Logging:LogLevel:AlexNet.Pipeline.Worker.ModelHolder"] = settings.LogLevel <= LogLevel.Information ? "Information" : "Error",
        });
        if (settings.LatencyProfile is not null)
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Chaos:Enabled"] = "false",
                ["Chaos:LatencyProfile"] = settings.LatencyProfile,
            });
        }
        // Anything above can be overridden, e.g. ALEXNET_Worker__BatchSize=128.
        builder.Configuration.AddEnvironmentVariables("ALEXNET_");
        builder.WebHost.UseUrls($"http://127.0.0.1:{settings.Port}");
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(options => { options.SingleLine = true; options.TimestampFormat = "HH:mm:ss "; });

        builder.AddServiceDefaults();
        builder.AddPipelineStorage();
        builder.AddPipelineMessaging();
        // Simulated distance to the service (off until switched on); the durable engine's own clients are not wrapped.
        if (settings.LatencyProfile is not null)
            builder.AddPipelineChaos();
        // Every blob and queue request of the pipeline side, by kind: what `--bench` reports per image.
        builder.AddRequestCounting();
        builder.AddLocalDurableEngine();
        builder.AddLabelWorker();
        builder.AddTrainWorker();
        builder.AddPipelineIngest();
        builder.AddPipelineApi();
        builder.Services.AddSingleton(provider => provider.GetRequiredService<PipelineApiFactory>().Create(provider.GetRequiredService<IOrchestrationClient>()));
        builder.Services.AddSingleton(new IngestSweepSchedule(settings.SweepInterval));
        builder.Services.AddHostedService<IngestSweepService>();
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(30));

        WebApplication app = builder.Build();
        var guard = new LocalApiGuard(settings.Port, settings.ApiToken);
        app.Use(guard.InvokeAsync);
        MapApi(app);
        return app;
    }

    private static void MapApi(WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = check => !check.Tags.Contains(HealthTags.Ready) });
        app.MapHealthChecks("/health/ready");
        var api = app.MapGroup("/api");
        api.MapPost("/batches/{batch}", StartBatchAsync);
        api.MapGet("/batches/{batch}", async (string batch, PipelineApi pipeline, CancellationToken ct) => Respond(await pipeline.GetBatchStatusAsync(batch, ct)));
        api.MapGet("/labels/{batch}/{**path}", async (string batch, string path, PipelineApi pipeline, CancellationToken ct) => Respond(await pipeline.GetImageLabelsAsync(batch, path, ct)));
        api.MapGet("/models", async (PipelineApi pipeline, CancellationToken ct) => Respond(await pipeline.ListModelsAsync(ct)));
        api.MapPut("/models/{version}", PublishModelAsync);
        api.MapPost("/models/{version}/promote", PromoteModelAsync);
        api.MapPost("/models/rollback", async (PipelineApi pipeline, CancellationToken ct) => Respond(await pipeline.RollbackAsync(ct)));
        api.MapPost("/retrain/{dataset}", StartRetrainAsync);
        api.MapGet("/retrain/runs/{instanceId}", async (string instanceId, PipelineApi pipeline, CancellationToken ct) => Respond(await pipeline.GetRetrainStatusAsync(instanceId, ct)));
        api.MapGet("/review", ReviewPage);
        api.MapGet("/review/{batch}", async (string batch, string? order, string? label, string? state, string? offset, string? limit, PipelineApi pipeline, CancellationToken ct) =>
            Respond(await pipeline.GetReviewPageAsync(batch, order, label, state, offset, limit, ct)));
        api.MapGet("/review/{batch}/images/{**path}", ReviewImageAsync);
        api.MapPost("/review/{batch}/decisions/{**path}", DecideAsync);
        api.MapGet("/export/{batch}/{tool}", async (string batch, string tool, bool? review, PipelineApi pipeline, CancellationToken ct) =>
            RespondContent(await pipeline.ExportLabelsAsync(batch, tool, review ?? false, ct)));
        api.MapPost("/import/{dataset}/{tool}", ImportAsync);
        api.MapGet("/images", async (string? label, string? minConfidence, string? model, string? offset, string? limit, PipelineApi pipeline, CancellationToken ct) =>
            Respond(await pipeline.FindImagesAsync(label, minConfidence, model, offset, limit, ct)));
    }

    private static async Task<IResult> ImportAsync(string dataset, string tool, string? source, HttpRequest request, PipelineApi pipeline, CancellationToken cancellationToken)
    {
        byte[]? body = await RequestBodies.ReadAsync(request.Body, request.ContentLength, RequestBodies.MaxExportBytes, cancellationToken);
        if (body is null)
            return Respond(ApiResult.PayloadTooLarge<AnnotationImportResult>($"the export is over {RequestBodies.MaxExportBytes} bytes"));
        return Respond(await pipeline.ImportAnnotationsAsync(dataset, tool, body, source, cancellationToken));
    }

    // The body is the package as a tar stream (ModelPackageArchive), bounded by PipelineApi.MaxModelUploadBytes.
    private static async Task<IResult> PublishModelAsync(string version, HttpRequest request, PipelineApi pipeline, CancellationToken cancellationToken)
    {
        if (request.ContentLength > PipelineApi.MaxModelUploadBytes)
            return Respond(ApiResult.PayloadTooLarge<ModelPublished>($"the package is over {PipelineApi.MaxModelUploadBytes} bytes; publish it with storage access (--storage)"));
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = PipelineApi.MaxModelUploadBytes + 1024 * 1024;
        return Respond(await pipeline.PublishModelAsync(version, request.Body, cancellationToken));
    }

    // The body, optional: {"reason": ...} promotes by hand, {"dataset": ...} starts the gate (202 with the run).
    private static async Task<IResult> PromoteModelAsync(string version, HttpRequest request, PipelineApi pipeline, CancellationToken cancellationToken)
    {
        byte[]? body = await ReadBodyAsync(request, cancellationToken);
        if (body is null)
            return Respond(ApiResult.PayloadTooLarge<CurrentModelPointer>($"the body is over {MaxBodyBytes} bytes"));
        ApiResult<PromoteRequest?> options = PipelineApi.ReadPromoteOptions(body);
        if (!options.IsSuccess)
            return Respond(ApiResult.BadRequest<CurrentModelPointer>(options.Error!));
        return options.Value is { Dataset: not null } gated
            ? Respond(await pipeline.StartGatedPromotionAsync(version, gated, cancellationToken))
            : Respond(await pipeline.PromoteAsync(version, options.Value, cancellationToken));
    }

    private static IResult RespondContent(ApiResult<BinaryContent> result) =>
        result.IsSuccess ? new NoSniffBytes(result.Value!) : Respond(result);

    private sealed class NoSniffBytes(BinaryContent content) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.XContentTypeOptions = "nosniff";
            return Results.Bytes(content.Bytes, content.ContentType).ExecuteAsync(httpContext);
        }
    }

    // The same page the Functions app serves: it calls the review routes beside it.
    private static IResult ReviewPage(HttpContext context)
    {
        foreach (KeyValuePair<string, string> header in ReviewPageFile.Headers)
        {
            if (header.Key != "Content-Type")
                context.Response.Headers[header.Key] = header.Value;
        }
        return Results.Bytes(ReviewPageFile.Bytes, ReviewPageFile.Headers["Content-Type"]);
    }

    private static async Task<IResult> ReviewImageAsync(string batch, string path, HttpContext context, PipelineApi pipeline, CancellationToken cancellationToken)
    {
        ApiResult<BinaryContent> result = await pipeline.GetReviewImageAsync(batch, path, cancellationToken);
        if (!result.IsSuccess)
            return Respond(result);
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "private, max-age=300";
        return Results.Bytes(result.Value!.Bytes, result.Value.ContentType);
    }

    // Locally nobody signs in: the body names the reviewer.
    private static async Task<IResult> DecideAsync(string batch, string path, HttpRequest request, PipelineApi pipeline, CancellationToken cancellationToken)
    {
        byte[]? body = await ReadBodyAsync(request, cancellationToken);
        if (body is null)
            return Respond(ApiResult.PayloadTooLarge<ReviewRecord>($"the body is over {MaxBodyBytes} bytes"));
        ApiResult<ReviewDecisionInput?> input = PipelineApi.ReadReviewDecision(body);
        if (!input.IsSuccess)
            return Respond(ApiResult.BadRequest<ReviewRecord>(input.Error!));
        return Respond(await pipeline.DecideAsync(batch, path, input.Value, principal: null, cancellationToken));
    }

    private const int MaxBodyBytes = RequestBodies.MaxBytes;

    // The body, optional, holds the batch's options as the Functions app takes them (chunkSize, cropMode, ...).
    private static async Task<IResult> StartBatchAsync(string batch, HttpRequest request, PipelineApi pipeline, CancellationToken cancellationToken)
    {
        byte[]? body = await ReadBodyAsync(request, cancellationToken);
        if (body is null)
            return Respond(ApiResult.PayloadTooLarge<BatchStarted>($"the body is over {MaxBodyBytes} bytes"));
        ApiResult<LabelBatchInput?> options = PipelineApi.ReadBatchOptions(body);
        if (!options.IsSuccess)
            return Respond(ApiResult.BadRequest<BatchStarted>(options.Error!));
        return Respond(await pipeline.StartBatchAsync(batch, options.Value, cancellationToken));
    }

    // The body, optional, holds the retrain's options as the Functions app takes them (epochs, inputSize, seed, ...).
    private static async Task<IResult> StartRetrainAsync(string dataset, bool? force, HttpRequest request, PipelineApi pipeline, CancellationToken cancellationToken)
    {
        byte[]? body = await ReadBodyAsync(request, cancellationToken);
        if (body is null)
            return Respond(ApiResult.PayloadTooLarge<RetrainStarted>($"the body is over {MaxBodyBytes} bytes"));
        ApiResult<RetrainInput?> options = PipelineApi.ReadRetrainOptions(body);
        if (!options.IsSuccess)
            return Respond(ApiResult.BadRequest<RetrainStarted>(options.Error!));
        return Respond(await pipeline.StartRetrainAsync(dataset, force ?? false, options.Value, cancellationToken));
    }

    /// <summary>The body, or null when it is over <see cref="MaxBodyBytes"/> (refused by its length before reading when it says so).</summary>
    private static Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken) =>
        RequestBodies.ReadAsync(request.Body, request.ContentLength, cancellationToken);

    private static IResult Respond<T>(ApiResult<T> result)
    {
        string body = result.IsSuccess
            ? JsonSerializer.Serialize(result.Value, ApiJsonContext.Default.GetTypeInfo(typeof(T))!)
            : JsonSerializer.Serialize(new ApiError(result.StatusCode, result.Error ?? "error"), ApiJsonContext.Default.ApiError);
        return Results.Text(body, "application/json", statusCode: result.StatusCode);
    }
}

internal sealed record IngestSweepSchedule(TimeSpan Interval);

/// <summary>
/// Sweeps <c>incoming</c> on an interval: locally there is no Event Grid, so the sweep is the trigger. While no model
/// is promoted, uploads it queues wait unlabeled, and it says so (at most once a minute) with what to do.
/// </summary>
internal sealed partial class IngestSweepService(
    IngestSweeper sweeper, IngestSweepSchedule schedule, ModelRegistry models, TimeProvider time, ILogger<IngestSweepService> logger) : BackgroundService
{
    private static readonly TimeSpan NoticeInterval = TimeSpan.FromMinutes(1);
    private long lastNotice = long.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(schedule.Interval, time);
        do
        {
            try
            {
                SweepResult result = await sweeper.SweepAsync(stoppingToken);
                if (result.Queued + result.Rejected > 0)
                    LogSwept(logger, result.Queued, result.Rejected);
                if (result.Queued > 0 && (lastNotice == long.MinValue || time.GetElapsedTime(lastNotice) >= NoticeInterval)
                    && await models.GetCurrentAsync(stoppingToken) is null)
                {
                    lastNotice = time.GetTimestamp();
                    LogWaitingForModel(logger, result.Queued, ModelRegistry.NoModelAdvice);
                }
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                LogSweepFailed(logger, error);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Ingest sweep queued {Queued} uploads and rejected {Rejected}")]
    private static partial void LogSwept(ILogger logger, int queued, int rejected);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Queued} upload(s) are waiting to be labeled, but no model is promoted yet (models/current.json): {Advice}")]
    private static partial void LogWaitingForModel(ILogger logger, int queued, string advice);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ingest sweep failed; retrying on the next tick")]
    private static partial void LogSweepFailed(ILogger logger, Exception error);
}
