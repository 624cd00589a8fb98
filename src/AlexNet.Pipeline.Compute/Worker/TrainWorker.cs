using AlexNet.Pipeline.Messaging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Worker;

/// <summary>
/// The train loop: one job at a time from <c>Messaging:TrainQueue</c>, handed to <see cref="TrainJobProcessor"/>.
/// Shutdown cancels training at once (the trainer checkpoints, the message is abandoned and resumes later):
/// a job can last hours, far beyond any shutdown timeout. Off when <c>Worker:TrainingEnabled</c> is false.
/// </summary>
public sealed partial class TrainWorker(
    TrainJobProcessor processor,
    IOptions<WorkerOptions> options,
    ILogger<TrainWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        WorkerOptions settings = options.Value;
        if (!settings.TrainingEnabled)
        {
            LogDisabled(logger);
            return;
        }

        LogStarting(logger, processor.Queue.Name);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                ReceivedMessage? message = await processor.Queue.ReceiveOrWaitAsync(processor.ReceiveAsync, settings.ReceiveWait, stoppingToken).ConfigureAwait(false);
                if (message is not null)
                    await processor.ProcessAsync(message, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown while waiting for a job.
        }
        LogStopped(logger, processor.Queue.Name);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Train worker starting on queue {Queue}")]
    private static partial void LogStarting(ILogger logger, string queue);

    [LoggerMessage(Level = LogLevel.Information, Message = "Train worker is off (Worker:TrainingEnabled is false)")]
    private static partial void LogDisabled(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Train worker on queue {Queue} stopped")]
    private static partial void LogStopped(ILogger logger, string queue);
}
