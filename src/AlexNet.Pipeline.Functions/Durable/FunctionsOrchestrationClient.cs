using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Orchestrations;
using Grpc.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using PipelineState = AlexNet.Pipeline.Orchestrations.OrchestrationState;
using PipelineStatus = AlexNet.Pipeline.Orchestrations.OrchestrationStatus;

namespace AlexNet.Pipeline.Functions.Durable;

/// <summary>
/// <see cref="IOrchestrationClient"/> over Durable Functions' <see cref="DurableTaskClient"/> (the <c>[DurableClient]</c>
/// binding). Same rule as the local engine's client: a start is refused (false) while an instance of that id is
/// pending, running or completed; a failed or terminated one is started afresh, which is how a failed batch is retried.
/// </summary>
public sealed class FunctionsOrchestrationClient(DurableTaskClient client) : IOrchestrationClient
{
    private static readonly OrchestrationRuntimeStatus[] Occupied =
    [
        OrchestrationRuntimeStatus.Pending,
        OrchestrationRuntimeStatus.Running,
#pragma warning disable CS0618 // ContinuedAsNew is obsolete in the SDK, yet a backend may still report it
        OrchestrationRuntimeStatus.ContinuedAsNew,
#pragma warning restore CS0618
        OrchestrationRuntimeStatus.Completed,
        OrchestrationRuntimeStatus.Suspended,
    ];

    public DurableTaskClient Client => client;

    public Task<bool> StartLabelBatchAsync(LabelBatchInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        LabelPaths.ValidateBatch(input.Batch);
        return StartAsync(OrchestrationNames.LabelBatch, input.Batch, input, cancellationToken);
    }

    public Task<bool> StartRetrainAsync(string instanceId, RetrainInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        LabelPaths.ValidateBatch(instanceId);
        return StartAsync(OrchestrationNames.Retrain, instanceId, input, cancellationToken);
    }

    public async Task<bool> StartAsync(string name, string instanceId, object input, CancellationToken cancellationToken = default)
    {
        OrchestrationMetadata? existing = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false);
        if (existing is not null && Occupied.Contains(existing.RuntimeStatus))
            return false;
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(name, input, new StartOrchestrationOptions(instanceId), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.AlreadyExists or StatusCode.FailedPrecondition)
        {
            // Another start won the race between the check and the schedule (host.json refuses running instances).
            return false;
        }
    }

    public async Task<PipelineStatus> GetStatusAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        OrchestrationMetadata? metadata = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
        if (metadata is null)
            return new PipelineStatus(instanceId, string.Empty, PipelineState.NotFound, null, null, null, null, null);

        PipelineState state = Map(metadata.RuntimeStatus);
        return new PipelineStatus(
            instanceId,
            metadata.Name,
            state,
            metadata.SerializedCustomStatus,
            state == PipelineState.Completed ? metadata.SerializedOutput : null,
            state == PipelineState.Failed ? metadata.FailureDetails?.ErrorMessage ?? metadata.SerializedOutput : null,
            metadata.CreatedAt,
            metadata.LastUpdatedAt);
    }

#pragma warning disable CS0618 // see Occupied
    private static PipelineState Map(OrchestrationRuntimeStatus status) => status switch
    {
        OrchestrationRuntimeStatus.Pending => PipelineState.Pending,
        OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.ContinuedAsNew or OrchestrationRuntimeStatus.Suspended => PipelineState.Running,
        OrchestrationRuntimeStatus.Completed => PipelineState.Completed,
        OrchestrationRuntimeStatus.Failed => PipelineState.Failed,
        _ => PipelineState.Terminated,
    };
#pragma warning restore CS0618
}
