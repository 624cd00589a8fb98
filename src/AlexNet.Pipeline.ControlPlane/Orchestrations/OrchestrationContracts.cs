using AlexNet.Pipeline.Labeling;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>Input of the LabelBatch orchestration; its instance id is the batch id, so a second start is a no-op.</summary>
/// <param name="Prefix">Blob name prefix to label; null means <c>&lt;batch&gt;/</c>.</param>
/// <param name="ChunkTimeoutSeconds">A chunk group that sees no chunk finish for this long sends its missing chunks again.</param>
/// <param name="MaxResends">Resend rounds per chunk group before the batch fails.</param>
/// <param name="ChunksPerGroup">Chunks per sub-orchestration: bounds each history and each fan-out.</param>
/// <param name="PollsPerHistory">Polls before a waiting loop continues as new, so its history stays short.</param>
public sealed record LabelBatchInput(
    string Batch,
    string Container = Contracts.PipelineNames.IncomingContainer,
    string? Prefix = null,
    int ChunkSize = 256,
    string? CropMode = null,
    double MinConfidence = 0.5,
    int ChunkTimeoutSeconds = 600,
    int MaxResends = 3,
    int PollSeconds = 15,
    int ChunksPerGroup = 50,
    int PollsPerHistory = 60);

/// <summary>
/// Input of the Retrain orchestration. Null training settings take the recipe's defaults in the worker
/// (<c>TrainingOptions</c>, the one source of training defaults); the base size follows the input size.
/// </summary>
/// <param name="GatePoints">How many percentage points of top-1 (and top-5, where meaningful) error a candidate may lose against the current model.</param>
/// <param name="FromCurrent">
/// Fine-tune the current model instead of training from scratch (from scratch when none is promoted). The candidate keeps
/// the current model's input size, normalisation and base size unless the request names them.
/// </param>
/// <param name="Candidate">
/// A version published already (<c>alexnet models publish</c>) to put through the gate instead of training one: the
/// worker finds it published, skips training and scores it against the current model on this data set's validation
/// images; the gate then decides as for a trained candidate. The unchanged-data check does not apply.
/// </param>
public sealed record RetrainInput(
    string Dataset,
    bool Force = false,
    int? Epochs = null,
    int? InputSize = null,
    int? BaseSize = null,
    int? BatchSize = null,
    double? LearningRate = null,
    int Seed = 1,
    double GatePoints = 0.5,
    int TrainTimeoutMinutes = 720,
    int PollSeconds = 30,
    string? Recipe = null,
    bool FromCurrent = false,
    string? Candidate = null);

public enum OrchestrationState
{
    Pending,
    Running,
    Completed,
    Failed,
    Terminated,
    NotFound,
}

/// <summary>What status endpoints show: state, the orchestration's custom status (progress) and output, as JSON text.</summary>
public sealed record OrchestrationStatus(
    string InstanceId,
    string Name,
    OrchestrationState State,
    string? CustomStatusJson,
    string? OutputJson,
    string? FailureMessage,
    DateTimeOffset? CreatedAt,
    DateTimeOffset? LastUpdatedAt);

/// <summary>
/// Starting and querying orchestrations, whichever durable engine runs them: Durable Functions' client in Azure,
/// the Durable Task Framework's TaskHubClient on Azurite in the local pipeline.
/// </summary>
public interface IOrchestrationClient
{
    /// <summary>Starts LabelBatch with instance id = batch id; returns false if that instance already exists.</summary>
    Task<bool> StartLabelBatchAsync(LabelBatchInput input, CancellationToken cancellationToken = default);

    /// <summary>Starts Retrain under the given instance id; returns false if that instance already exists.</summary>
    Task<bool> StartRetrainAsync(string instanceId, RetrainInput input, CancellationToken cancellationToken = default);

    Task<OrchestrationStatus> GetStatusAsync(string instanceId, CancellationToken cancellationToken = default);
}

/// <summary>What LabelBatch returns: counts and where the batch files are, never the labels themselves.</summary>
/// <param name="Images">Images the listing found, so chunked and sent.</param>
/// <param name="Labeled">Images with a label record once the batch finished (from the records, not the chunks).</param>
/// <param name="Resends">Chunks sent again because their completion marker did not appear in time.</param>
/// <param name="SummaryBlob">Where <c>summary.json</c> is, as <c>container/name</c>.</param>
/// <param name="Failed">Always 0: a chunk with a failed item is retried until it is done or the batch fails.</param>
/// <param name="Vanished">Images deleted, or replaced since they were listed, before the worker read them (no record).</param>
public sealed record BatchResult(
    string Batch,
    int Images,
    int Chunks,
    int Labeled,
    int Rejected,
    int NeedsReview,
    int Failed,
    int Resends,
    double Seconds,
    double ImagesPerSecond,
    string SummaryBlob,
    int Vanished = 0);

/// <summary>Progress of LabelBatch as its custom status: a few numbers, far below the 16 KB custom-status limit.</summary>
/// <param name="Phase">listing, sending, labeling, reporting or done.</param>
/// <param name="EtaSeconds">Seconds left at the rate so far; null until a chunk is done.</param>
public sealed record LabelBatchProgress(
    string Phase,
    int ChunksDone,
    int Chunks,
    int ImagesDone,
    int Images,
    double ImagesPerSecond,
    int? EtaSeconds);

public enum RetrainOutcome
{
    /// <summary>The training set has not changed since the current model was trained on it.</summary>
    Skipped,

    /// <summary>The candidate passed the gate and is now current.</summary>
    Promoted,

    /// <summary>The candidate did worse than the current model by more than the gate allows; the current model stays.</summary>
    Rejected,

    /// <summary>The candidate did not clearly beat always answering the most common class: it learned nothing to promote.</summary>
    Refused,
}

/// <summary>What Retrain returns. Errors are fractions (0.12 = 12%); the candidate fields are null when skipped.</summary>
/// <param name="Reviewed">The reviewed images in the training set and the labels they changed (<see cref="ReviewedDataSummary"/>).</param>
public sealed record RetrainResult(
    RetrainOutcome Outcome,
    string Dataset,
    string Fingerprint,
    string? JobId,
    string? CandidateVersion,
    string? CurrentVersion,
    double? CandidateTop1Error,
    double? CandidateTop5Error,
    double? CurrentTop1Error,
    double? CurrentTop5Error,
    int? ValidationImages,
    int? Top1Changed,
    string Reason,
    string? MetricsBlob,
    ReviewedDataSummary? Reviewed = null);
