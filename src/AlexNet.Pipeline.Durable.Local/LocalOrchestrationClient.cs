using AlexNet.Pipeline.Orchestrations;
using DurableTask.AzureStorage;
using DurableTask.Core;
using DurableTask.Core.Exceptions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using CoreState = DurableTask.Core.OrchestrationState;
using CoreStatus = DurableTask.Core.OrchestrationStatus;
using PipelineState = AlexNet.Pipeline.Orchestrations.OrchestrationState;
using PipelineStatus = AlexNet.Pipeline.Orchestrations.OrchestrationStatus;
using SdkJsonConverter = Microsoft.DurableTask.Converters.JsonDataConverter;

namespace AlexNet.Pipeline.Durable;

/// <summary>
/// <see cref="IOrchestrationClient"/> over the framework's <see cref="TaskHubClient"/> on the local engine's task hub.
/// A start is refused (false) while an instance of that id is pending, running or completed; a failed or terminated
/// one is started afresh, which is how a failed batch is retried.
/// </summary>
public sealed class LocalOrchestrationClient : IOrchestrationClient
{
    private static readonly CoreStatus[] Occupied =
        [CoreStatus.Pending, CoreStatus.Running, CoreStatus.ContinuedAsNew, CoreStatus.Completed, CoreStatus.Suspended];

    private readonly TaskHubClient client;
    private readonly Lazy<Task> taskHubCreated;

    public LocalOrchestrationClient(IOptions<LocalDurableOptions> options, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        var service = new AzureStorageOrchestrationService(AzureStorageSettingsFactory.Create(options.Value, loggerFactory));
        client = new TaskHubClient(service, new SdkDataConverter(SdkJsonConverter.Default), loggerFactory);
        // A start or a status query may come before any engine has created the task hub (a CLI asking for status).
        taskHubCreated = new Lazy<Task>(() => service.CreateIfNotExistsAsync());
    }

    public Task<bool> StartLabelBatchAsync(LabelBatchInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        Labeling.LabelPaths.ValidateBatch(input.Batch);
        return StartAsync(OrchestrationNames.LabelBatch, input.Batch, input, cancellationToken);
    }

    public Task<bool> StartRetrainAsync(string instanceId, RetrainInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        Labeling.LabelPaths.ValidateBatch(instanceId);
        return StartAsync(OrchestrationNames.Retrain, instanceId, input, cancellationToken);
    }

    /// <summary>Starts any orchestration of <see cref="OrchestrationRegistry"/>; false when the instance id is taken.</summary>
    public async Task<bool> StartAsync(string name, string instanceId, object input, CancellationToken cancellationToken = default)
    {
        CoreState? existing = await GetStateAsync(instanceId, cancellationToken).ConfigureAwait(false);
        if (existing is not null && Occupied.Contains(existing.OrchestrationStatus))
            return false;
        try
        {
            await client.CreateOrchestrationInstanceAsync(name, string.Empty, instanceId, input, null, Occupied).WaitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OrchestrationAlreadyExistsException)
        {
            return false;
        }
    }

    public async Task<PipelineStatus> GetStatusAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        CoreState? state = await GetStateAsync(instanceId, cancellationToken).ConfigureAwait(false);
        if (state is null)
            return new PipelineStatus(instanceId, string.Empty, PipelineState.NotFound, null, null, null, null, null);

        PipelineState mapped = Map(state.OrchestrationStatus);
        string? failure = mapped == PipelineState.Failed ? state.FailureDetails?.ErrorMessage ?? state.Output : null;
        return new PipelineStatus(
            instanceId,
            state.Name,
            mapped,
            state.Status,
            mapped == PipelineState.Completed ? state.Output : null,
            failure,
            new DateTimeOffset(DateTime.SpecifyKind(state.CreatedTime, DateTimeKind.Utc)),
            new DateTimeOffset(DateTime.SpecifyKind(state.LastUpdatedTime, DateTimeKind.Utc)));
    }

    /// <summary>Waits until the instance completes, fails or is terminated, polling its state.</summary>
    public async Task<PipelineStatus> WaitForCompletionAsync(string instanceId, TimeSpan pollInterval, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            PipelineStatus status = await GetStatusAsync(instanceId, cancellationToken).ConfigureAwait(false);
            if (status.State is PipelineState.Completed or PipelineState.Failed or PipelineState.Terminated)
                return status;
            await Task.Delay(pollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<CoreState?> GetStateAsync(string instanceId, CancellationToken cancellationToken)
    {
        await taskHubCreated.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        IList<CoreState> states = await client.GetOrchestrationStateAsync(instanceId, allExecutions: false).WaitAsync(cancellationToken).ConfigureAwait(false);
        return states.FirstOrDefault(s => s is not null);
    }

    private static PipelineState Map(CoreStatus status) => status switch
    {
        CoreStatus.Pending => PipelineState.Pending,
        CoreStatus.Running or CoreStatus.ContinuedAsNew or CoreStatus.Suspended => PipelineState.Running,
        CoreStatus.Completed => PipelineState.Completed,
        CoreStatus.Failed => PipelineState.Failed,
        _ => PipelineState.Terminated,
    };
}
