using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using AlexNet.Model;
using AlexNet.Model.Inference;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Orchestrations;
using AlexNet.Pipeline.Storage;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Api;

/// <summary>
/// The pipeline's operations for people and programs, whatever carries them: the Functions HTTP triggers and the
/// local pipeline's web host both call these methods and turn the <see cref="ApiResult{T}"/> into a response.
/// Input is checked here, once, and every refusal says what was wrong.
/// </summary>
public sealed partial class PipelineApi(
    IOrchestrationClient orchestrations,
    IBlobStore store,
    ModelRegistry models,
    TimeProvider time,
    ILogger<PipelineApi> logger)
{
    public const int MaxPathLength = 1024;

    /// <summary>Containers a batch may label: the upload container, or a training set to check.</summary>
    public static IReadOnlyList<string> LabelableContainers { get; } = [PipelineNames.IncomingContainer, PipelineNames.TrainingContainer];

    /// <summary>
    /// Reads the optional body of a start-batch request: empty means all defaults. Refuses JSON that does not
    /// parse or does not fit <see cref="LabelBatchInput"/>.
    /// </summary>
    public static ApiResult<LabelBatchInput?> ReadBatchOptions(ReadOnlySpan<byte> body) =>
        ReadOptions(body, ApiJsonContext.Default.LabelBatchInput, "batch");

    /// <summary>
    /// Starts labeling <c>&lt;container&gt;/&lt;batch&gt;/</c> under instance id = batch id: 202 when started, 409 when that
    /// batch was started before (its status tells how it went), 400 for a bad batch id or option.
    /// </summary>
    public async Task<ApiResult<BatchStarted>> StartBatchAsync(string batch, LabelBatchInput? options = null, CancellationToken cancellationToken = default)
    {
        if (BatchError(batch) is { } invalid)
            return ApiResult.BadRequest<BatchStarted>(invalid);
        if (batch.StartsWith(RetrainNames.InstancePrefix, StringComparison.Ordinal))
            return ApiResult.BadRequest<BatchStarted>($"batch ids starting with '{RetrainNames.InstancePrefix}' are kept for retraining runs (a batch of that name would block one); choose another");
        if (!string.IsNullOrEmpty(options?.Batch) && options.Batch != batch)
            return ApiResult.BadRequest<BatchStarted>($"the body names batch '{options.Batch}' but the address names '{batch}'");

        LabelBatchInput input = (options ?? new LabelBatchInput(batch)) with { Batch = batch };
        if (BatchOptionsError(input) is { } badOption)
            return ApiResult.BadRequest<BatchStarted>(badOption);
        if (input.CropMode is { } named && CropModes.TryParse(named, out CropMode crop))
            input = input with { CropMode = crop.Name() };

        if (!await StartOnceAsync(batch, () => orchestrations.StartLabelBatchAsync(input, cancellationToken), cancellationToken).ConfigureAwait(false))
        {
            OrchestrationStatus existing = await orchestrations.GetStatusAsync(batch, cancellationToken).ConfigureAwait(false);
            return ApiResult.Conflict<BatchStarted>(existing.State == OrchestrationState.NotFound
                ? $"batch '{batch}' is being started by another request; its status shows it in a moment"
                : $"batch '{batch}' was already started (state {existing.State}); its status shows how it went, and a new run needs a new batch id");
        }

        LogBatchStarted(logger, batch, input.Container, input.Prefix ?? batch + "/");
        return ApiResult.Accepted(new BatchStarted(batch, batch, true, input));
    }

    /// <summary>Uploads counted for a batch waiting for a model; past this the status says "at least".</summary>
    public const int MaxWaitingCount = 100_000;

    /// <summary>
    /// The batch's orchestration state and progress, and its summary once written. While no model is promoted, a batch
    /// whose uploads wait (started or only uploaded) says so, with their count and what to do. 404 when none of these exists.
    /// </summary>
    public async Task<ApiResult<BatchStatusView>> GetBatchStatusAsync(string batch, CancellationToken cancellationToken = default)
    {
        if (BatchError(batch) is { } invalid)
            return ApiResult.BadRequest<BatchStatusView>(invalid);

        OrchestrationStatus status = await orchestrations.GetStatusAsync(batch, cancellationToken).ConfigureAwait(false);
        BatchSummary? summary = await ReadAsync(LabelPaths.LabelsContainer, LabelPaths.BatchFile(batch, LabelPaths.Summary), LabelJsonContext.Default.BatchSummary, cancellationToken).ConfigureAwait(false);
        WaitingForModel? waiting = summary is null && status.State is not (OrchestrationState.Completed or OrchestrationState.Failed or OrchestrationState.Terminated)
            ? await WaitingForModelAsync(batch, cancellationToken).ConfigureAwait(false)
            : null;
        if (status.State == OrchestrationState.NotFound && summary is null && waiting is null)
            return ApiResult.NotFound<BatchStatusView>($"batch '{batch}' has not been started and has no summary");

        return ApiResult.Ok(new BatchStatusView(
            batch,
            status.State,
            ReadEngineJson(status.CustomStatusJson, ApiJsonContext.Default.LabelBatchProgress),
            ReadEngineJson(status.OutputJson, ApiJsonContext.Default.BatchResult),
            status.FailureMessage,
            status.CreatedAt,
            status.LastUpdatedAt,
            summary,
            waiting));
    }

    /// <summary>A retraining run by its instance id (<c>retrain-&lt;dataset&gt;-&lt;yyyyMMdd-HHmm&gt;</c>): 400 for another id, 404 when none ran.</summary>
    public async Task<ApiResult<RetrainStatusView>> GetRetrainStatusAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        if (BatchError(instanceId) is { } invalid)
            return ApiResult.BadRequest<RetrainStatusView>(invalid.Replace("batch id", "retrain run id", StringComparison.Ordinal));
        if (!instanceId.StartsWith(RetrainNames.InstancePrefix, StringComparison.Ordinal))
            return ApiResult.BadRequest<RetrainStatusView>($"'{instanceId}' is not a retrain run id ({RetrainNames.InstancePrefix}<dataset>-<yyyyMMdd-HHmm>)");
        OrchestrationStatus status = await orchestrations.GetStatusAsync(instanceId, cancellationToken).ConfigureAwait(false);
        if (status.State == OrchestrationState.NotFound)
            return ApiResult.NotFound<RetrainStatusView>($"no retrain run '{instanceId}'");
        return ApiResult.Ok(new RetrainStatusView(
            instanceId,
            status.State,
            ReadEngineJson(status.CustomStatusJson, ApiJsonContext.Default.RetrainProgress),
            ReadEngineJson(status.OutputJson, ApiJsonContext.Default.RetrainResult),
            status.FailureMessage,
            status.CreatedAt,
            status.LastUpdatedAt));
    }

    /// <summary>The uploads of <c>incoming/&lt;batch&gt;/</c> when no model is promoted, or null when one is or none wait.</summary>
    private async Task<WaitingForModel?> WaitingForModelAsync(string batch, CancellationToken cancellationToken)
    {
        if (await models.GetCurrentAsync(cancellationToken).ConfigureAwait(false) is not null)
            return null;
        int uploads = 0;
        await foreach (BlobEntry _ in store.ListAsync(PipelineNames.IncomingContainer, batch + "/", cancellationToken).ConfigureAwait(false))
        {
            if (++uploads >= MaxWaitingCount)
                break;
        }
        return uploads == 0
            ? null
            : new WaitingForModel(uploads, uploads >= MaxWaitingCount, "waiting for a model: none is promoted yet (models/current.json), so these uploads wait unlabeled", ModelRegistry.NoModelAdvice);
    }

    /// <summary>
    /// The label record and/or rejected record of <c>&lt;batch&gt;/&lt;path&gt;</c> (the path under the batch folder); 404 when
    /// the image has neither yet.
    /// </summary>
    public async Task<ApiResult<ImageLabelsView>> GetImageLabelsAsync(string batch, string path, CancellationToken cancellationToken = default)
    {
        if (BatchError(batch) is { } invalid)
            return ApiResult.BadRequest<ImageLabelsView>(invalid);
        if (PathError(path) is { } badPath)
            return ApiResult.BadRequest<ImageLabelsView>(badPath);

        string name = LabelPaths.Record(batch, path);
        LabelRecord? label = await ReadAsync(LabelPaths.LabelsContainer, name, LabelJsonContext.Default.LabelRecord, cancellationToken).ConfigureAwait(false);
        RejectedRecord? rejection = await ReadAsync(LabelPaths.RejectedContainer, name, LabelJsonContext.Default.RejectedRecord, cancellationToken).ConfigureAwait(false);
        if (label is null && rejection is null)
            return ApiResult.NotFound<ImageLabelsView>($"image '{path}' of batch '{batch}' has no label or rejected record (yet)");

        string status = label is not null && (rejection is null || label.LabeledAt >= rejection.RejectedAt) ? label.Status : rejection!.Status;
        return ApiResult.Ok(new ImageLabelsView(batch, path, status, label, rejection));
    }

    public async Task<ApiResult<ModelsView>> ListModelsAsync(CancellationToken cancellationToken = default)
    {
        CurrentModelPointer? current = await models.GetCurrentAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<ModelView>();
        var unreadable = new List<UnreadableModelView>();
        await foreach (ModelListing listing in models.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            if (listing.Manifest is not { } manifest)
            {
                unreadable.Add(new UnreadableModelView(listing.Version, listing.Problem ?? "unreadable"));
                continue;
            }
            list.Add(new ModelView(
                manifest.Version,
                manifest.ParentVersion,
                manifest.CreatedAt,
                manifest.Classes.Count,
                manifest.InputSize,
                manifest.Layout.ToString(),
                manifest.WeightsSha256,
                manifest.TrainingDataFingerprint,
                manifest.Metrics,
                manifest.Version == current?.Version,
                manifest.ManifestSha256));
        }

        return ApiResult.Ok(new ModelsView(
            current,
            [.. list.OrderByDescending(m => m.CreatedAt).ThenBy(m => m.Version, StringComparer.Ordinal)],
            [.. unreadable.OrderBy(m => m.Version, StringComparer.Ordinal)]));
    }

    /// <summary>Makes a published version current: 404 for an unknown version, 409 when the pointer changed meanwhile.</summary>
    public Task<ApiResult<CurrentModelPointer>> PromoteAsync(string version, CancellationToken cancellationToken = default) =>
        PromoteWithReasonAsync(version, "promoted through the API", cancellationToken);

    private async Task<ApiResult<CurrentModelPointer>> PromoteWithReasonAsync(string version, string reason, CancellationToken cancellationToken)
    {
        if (VersionError(version) is { } invalid)
            return ApiResult.BadRequest<CurrentModelPointer>(invalid);
        try
        {
            CurrentModelPointer pointer = await models.PromoteAsync(version, reason, cancellationToken).ConfigureAwait(false);
            LogPromoted(logger, pointer.Version, pointer.Previous);
            return ApiResult.Ok(pointer);
        }
        catch (ModelRegistryException e)
        {
            return ApiResult.NotFound<CurrentModelPointer>(e.Message);
        }
        catch (BlobConflictException)
        {
            return ApiResult.Conflict<CurrentModelPointer>("models/current.json changed while promoting; read the models again and retry");
        }
    }

    /// <summary>Makes the previous version current again: 409 when there is nothing to roll back to.</summary>
    public async Task<ApiResult<CurrentModelPointer>> RollbackAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            CurrentModelPointer pointer = await models.RollbackAsync("rolled back through the API", cancellationToken).ConfigureAwait(false);
            LogRolledBack(logger, pointer.Version, pointer.Reason);
            return ApiResult.Ok(pointer);
        }
        catch (ModelRegistryException e)
        {
            return ApiResult.Conflict<CurrentModelPointer>(e.Message);
        }
        catch (BlobConflictException)
        {
            return ApiResult.Conflict<CurrentModelPointer>("models/current.json changed while rolling back; read the models again and retry");
        }
    }

    /// <summary>
    /// Reads the optional body of a retrain request (<see cref="RetrainInput"/>'s fields: epochs, inputSize, baseSize,
    /// batchSize, learningRate, seed, recipe, force, gatePoints, ...): empty means all defaults.
    /// </summary>
    public static ApiResult<RetrainInput?> ReadRetrainOptions(ReadOnlySpan<byte> body) =>
        ReadOptions(body, ApiJsonContext.Default.RetrainInput, "retrain");

    /// <summary>An optional JSON body of options: empty is null (all defaults), JSON that does not fit is a 400.</summary>
    private static ApiResult<T?> ReadOptions<T>(ReadOnlySpan<byte> body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string what)
        where T : class
    {
        if (body.Trim(" \t\r\n"u8).IsEmpty)
            return ApiResult.Ok<T?>(null);
        try
        {
            return ApiResult.Ok<T?>(JsonSerializer.Deserialize(body, type));
        }
        catch (JsonException e)
        {
            return ApiResult.BadRequest<T?>($"the body is not a valid set of {what} options: {e.Message}");
        }
    }

    /// <summary>
    /// Starts retraining on <c>training/&lt;dataset&gt;/</c>: 202 when started, 400 for options out of range, 404 when
    /// the dataset has no images, 409 when a retrain of it was started within the same minute, 429 when one was started
    /// less than <see cref="MinRetrainInterval"/> before (and did not fail).
    /// </summary>
    public async Task<ApiResult<RetrainStarted>> StartRetrainAsync(
        string dataset, bool force = false, RetrainInput? options = null, CancellationToken cancellationToken = default)
    {
        if (DatasetError(dataset) is { } invalid)
            return ApiResult.BadRequest<RetrainStarted>(invalid);
        RetrainInput input = (options ?? new RetrainInput(dataset)) with { Dataset = dataset };
        input = input with { Force = input.Force || force };
        if (RetrainOptionsError(input) is { } badOption)
            return ApiResult.BadRequest<RetrainStarted>(badOption);
        if (!await AnyAsync(PipelineNames.TrainingContainer, dataset + "/", cancellationToken).ConfigureAwait(false))
            return ApiResult.NotFound<RetrainStarted>($"training/{dataset}/ has no images to train on");
        if (input.Candidate is { } published && await models.GetManifestAsync(published, cancellationToken).ConfigureAwait(false) is null)
            return ApiResult.NotFound<RetrainStarted>($"candidate model version {published} does not exist; publish it first");

        DateTimeOffset now = time.GetUtcNow();
        if (await RecentRetrainAsync(dataset, now, cancellationToken).ConfigureAwait(false) is { } recent)
        {
            return ApiResult.TooManyRequests<RetrainStarted>(string.Create(CultureInfo.InvariantCulture,
                $"'{dataset}' was retrained at most {MinRetrainInterval.TotalMinutes:F0} minutes ago ('{recent}'); a retrain holds a GPU for up to hours, so one dataset starts at most one every {MinRetrainInterval.TotalMinutes:F0} minutes (force skips the unchanged-data check, not this)"));
        }

        string instanceId = RetrainInstanceId(dataset, now);
        if (!await StartOnceAsync(instanceId, () => orchestrations.StartRetrainAsync(instanceId, input, cancellationToken), cancellationToken).ConfigureAwait(false))
            return ApiResult.Conflict<RetrainStarted>($"a retrain of '{dataset}' was already started this minute as '{instanceId}'");

        LogRetrainStarted(logger, dataset, instanceId, force);
        return ApiResult.Accepted(new RetrainStarted(dataset, instanceId, input));
    }

    /// <summary>Retrains of one dataset start at least this far apart; a failed or terminated one does not count.</summary>
    public static readonly TimeSpan MinRetrainInterval = TimeSpan.FromMinutes(10);

    /// <summary>The id of a retrain of <paramref name="dataset"/> claimed in the minutes before this one and not failed, if any.</summary>
    private async Task<string?> RecentRetrainAsync(string dataset, DateTimeOffset now, CancellationToken cancellationToken)
    {
        for (int minutes = 1; minutes < MinRetrainInterval.TotalMinutes; minutes++)
        {
            string id = RetrainInstanceId(dataset, now.AddMinutes(-minutes));
            if (await store.GetEntryAsync(PipelineNames.RunsContainer, StartClaims.ClaimBlob(id), cancellationToken).ConfigureAwait(false) is null)
                continue;
            OrchestrationState state = (await orchestrations.GetStatusAsync(id, cancellationToken).ConfigureAwait(false)).State;
            if (state is not (OrchestrationState.Failed or OrchestrationState.Terminated))
                return id;
        }
        return null;
    }

    /// <summary>The retrain instance id of <paramref name="dataset"/> at <paramref name="at"/> (<see cref="RetrainNames.InstanceId"/>).</summary>
    public static string RetrainInstanceId(string dataset, DateTimeOffset at) => RetrainNames.InstanceId(dataset, at);

    /// <summary>Schedules an instance only for the caller that claims its id (<see cref="StartClaims"/>); false for the others.</summary>
    private async Task<bool> StartOnceAsync(string instanceId, Func<Task<bool>> start, CancellationToken cancellationToken)
    {
        var claims = new StartClaims(store, time);
        if (!await claims.TryClaimAsync(instanceId, ct => orchestrations.GetStatusAsync(instanceId, ct), cancellationToken).ConfigureAwait(false))
            return false;
        return await start().ConfigureAwait(false);
    }

    public static string? BatchError(string? batch) => SafeId.Error("batch id", batch);

    public static string? DatasetError(string? dataset) => SafeId.Error("dataset", dataset);

    public static string? VersionError(string? version) => SafeId.Error("model version", version, ModelManifest.MaxVersionLength);

    /// <summary>A path under a batch folder: relative, no empty or dot segments, no control characters.</summary>
    public static string? PathError(string? path)
    {
        if (string.IsNullOrEmpty(path))
            return "the image path is empty";
        if (path.Length > MaxPathLength)
            return $"the image path is {path.Length} characters long, over {MaxPathLength}";
        if (path.Any(char.IsControl))
            return "the image path contains control characters";
        if (path.Split('/').Any(segment => segment is "" or "." or ".."))
            return $"the image path '{path}' must be relative, without empty, '.' or '..' segments";
        return null;
    }

    /// <summary>The largest input side a retrain may ask for: at 512 one forward batch of 128 already needs gigabytes.</summary>
    public const int MaxRetrainInputSize = ModelManifest.MaxInputSize;

    internal static string? RetrainOptionsError(RetrainInput input)
    {
        string? range = OutOfRange("epochs", input.Epochs ?? 1, 1, 1000)
            ?? OutOfRange("inputSize", input.InputSize ?? AlexNet.Model.Network.AlexNetOptions.MinInputSize, AlexNet.Model.Network.AlexNetOptions.MinInputSize, MaxRetrainInputSize)
            ?? OutOfRange("baseSize", input.BaseSize ?? input.InputSize ?? AlexNet.Model.Network.AlexNetOptions.MinInputSize, input.InputSize ?? AlexNet.Model.Network.AlexNetOptions.MinInputSize, 2 * MaxRetrainInputSize)
            ?? OutOfRange("batchSize", input.BatchSize ?? 1, 1, 1024)
            ?? OutOfRange("learningRate", input.LearningRate ?? 0.01, 1e-6, 1)
            ?? OutOfRange("seed", input.Seed, 0, int.MaxValue)
            ?? OutOfRange("gatePoints", input.GatePoints, 0, 100)
            ?? OutOfRange("trainTimeoutMinutes", input.TrainTimeoutMinutes, 1, 7 * 24 * 60)
            ?? OutOfRange("pollSeconds", input.PollSeconds, 1, 3600)
            ?? (input.Candidate is { } candidate ? VersionError(candidate) : null);
        if (range is not null)
            return range;
        try
        {
            // The worker's own mapping and checks, so a request the API takes is one the worker will train.
            new TrainJob("check", input.Dataset, "check", null, "check", input.Epochs, input.InputSize, input.BaseSize, input.BatchSize,
                input.LearningRate, input.Seed, DateTimeOffset.UnixEpoch, input.Recipe).ToTrainingOptions().Validate();
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    internal static string? BatchOptionsError(LabelBatchInput input)
    {
        if (!LabelableContainers.Contains(input.Container))
            return $"container '{input.Container}' cannot be labeled; use one of: {string.Join(", ", LabelableContainers)}";
        if (input.Prefix is { } prefix && (prefix.Length > MaxPathLength || prefix.Any(char.IsControl)))
            return $"prefix must be at most {MaxPathLength} characters without control characters";
        if (input.CropMode is { } crop && CropModes.Error("cropMode", crop) is { } badCrop)
            return badCrop;
        return OutOfRange("chunkSize", input.ChunkSize, 1, 4096)
            ?? OutOfRange("minConfidence", input.MinConfidence, 0, 1)
            ?? OutOfRange("chunkTimeoutSeconds", input.ChunkTimeoutSeconds, 30, 86_400)
            ?? OutOfRange("maxResends", input.MaxResends, 0, 100)
            ?? OutOfRange("pollSeconds", input.PollSeconds, 1, 3600)
            ?? OutOfRange("chunksPerGroup", input.ChunksPerGroup, 1, 1000)
            ?? OutOfRange("pollsPerHistory", input.PollsPerHistory, 1, 10_000);
    }

    private static string? OutOfRange(string name, double value, double min, double max) =>
        value >= min && value <= max ? null : string.Create(CultureInfo.InvariantCulture, $"{name} must be between {min} and {max}, not {value}");


    /// <summary>
    /// A value the durable engine stored with its own serializer (PascalCase from the local engine and from Durable
    /// Functions' default, camelCase from the app's), read by property name whatever the case; null, with a warning,
    /// when it is not that shape.
    /// </summary>
    private T? ReadEngineJson<T>(string? json, JsonTypeInfo<T> type)
        where T : class
    {
        if (string.IsNullOrWhiteSpace(json))
            return null;
        try
        {
            return JsonSerializer.Deserialize(json, type);
        }
        catch (JsonException e)
        {
            LogUnreadableStatus(logger, typeof(T).Name, e.Message);
            return null;
        }
    }

    private async Task<T?> ReadAsync<T>(string container, string name, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class
    {
        BlobDownload? download = await store.DownloadAsync(container, name, cancellationToken).ConfigureAwait(false);
        return download is null ? null : JsonSerializer.Deserialize(download.Content.ToMemory().Span, type);
    }

    private async Task<bool> AnyAsync(string container, string prefix, CancellationToken cancellationToken)
    {
        await foreach (BlobEntry _ in store.ListAsync(container, prefix, cancellationToken).ConfigureAwait(false))
            return true;
        return false;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Started batch {Batch} over {Container}/{Prefix}")]
    private static partial void LogBatchStarted(ILogger logger, string batch, string container, string prefix);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Promoted model {Version} (previous {Previous})")]
    private static partial void LogPromoted(ILogger logger, string version, string? previous);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Rolled back to model {Version}: {Reason}")]
    private static partial void LogRolledBack(ILogger logger, string version, string? reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Started retrain of {Dataset} as {InstanceId} (force: {Force})")]
    private static partial void LogRetrainStarted(ILogger logger, string dataset, string instanceId, bool force);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "The orchestration's {Shape} could not be read and is left out of the status: {Reason}")]
    private static partial void LogUnreadableStatus(ILogger logger, string shape, string reason);
}
