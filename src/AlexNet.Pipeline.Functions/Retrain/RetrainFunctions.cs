using AlexNet.Pipeline.Api;
using AlexNet.Pipeline.Functions.Durable;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Functions.Retrain;

/// <summary>Configuration section <c>Retrain</c>: what the scheduled retrain (setting <c>RetrainSchedule</c>) trains on.</summary>
public sealed class RetrainScheduleOptions
{
    public const string SectionName = "Retrain";

    /// <summary>The training set, <c>training/&lt;dataset&gt;/</c>; empty turns scheduled retraining off.</summary>
    public string? Dataset { get; set; }

    /// <summary>Train even when the training set has not changed since the current model was trained.</summary>
    public bool Force { get; set; }
}

/// <summary>The scheduled retrain: starts the Retrain orchestration through <see cref="PipelineApi"/>, as the HTTP API does.</summary>
public sealed partial class RetrainFunctions(PipelineApiFactory apis, IOptions<RetrainScheduleOptions> options, ILogger<RetrainFunctions> logger)
{
    [Function(nameof(RetrainTimer))]
    public async Task RetrainTimer(
        [TimerTrigger("%RetrainSchedule%")] TimerInfo timer,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        RetrainScheduleOptions settings = options.Value;
        if (string.IsNullOrWhiteSpace(settings.Dataset))
        {
            LogOff(logger);
            return;
        }

        ApiResult<RetrainStarted> result = await apis.Create(new FunctionsOrchestrationClient(client))
            .StartRetrainAsync(settings.Dataset, settings.Force, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (result.IsSuccess)
            LogStarted(logger, settings.Dataset, result.Value!.InstanceId);
        else
            LogNotStarted(logger, settings.Dataset, result.StatusCode, result.Error!);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Retrain:Dataset is not set; scheduled retraining is off")]
    private static partial void LogOff(ILogger logger);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Scheduled retrain of {Dataset} started as {InstanceId}")]
    private static partial void LogStarted(ILogger logger, string dataset, string instanceId);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Scheduled retrain of {Dataset} not started ({Status}): {Error}")]
    private static partial void LogNotStarted(ILogger logger, string dataset, int status, string error);
}
