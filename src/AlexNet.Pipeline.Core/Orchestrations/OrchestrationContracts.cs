namespace AlexNet.Pipeline.Orchestrations;

/// <summary>Input of the LabelBatch orchestration; its instance id is the batch id, so a second start is a no-op.</summary>
public sealed record LabelBatchInput(
    string Batch,
    string Container = Contracts.PipelineNames.IncomingContainer,
    string? Prefix = null,
    int ChunkSize = 256,
    string? CropMode = null,
    double MinConfidence = 0.5,
    int ChunkTimeoutSeconds = 600,
    int MaxResends = 3,
    int PollSeconds = 15);

/// <summary>Input of the Retrain orchestration.</summary>
public sealed record RetrainInput(
    string Dataset,
    bool Force = false,
    int Epochs = 30,
    int InputSize = 64,
    int BaseSize = 73,
    int BatchSize = 128,
    double LearningRate = 0.01,
    int Seed = 1,
    double GateTop5Points = 0.5,
    int TrainTimeoutMinutes = 720,
    int PollSeconds = 30);

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
