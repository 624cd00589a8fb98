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
    TimeProvider time,
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
                ReceivedMessage? message;
                try
                {
                    message = await processor.ReceiveAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    LogReceiveFailed(logger, error, processor.Queue.Name, settings.ReceiveWait.TotalSeconds);
                    await Task.Delay(settings.ReceiveWait, time, stoppingToken).ConfigureAwait(false);
                    continue;
                }

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

    [LoggerMessage(Level = LogLevel.Error, Message = "Receiving from {Queue} failed; trying again in {Seconds:F0} s")]
    private static partial void LogReceiveFailed(ILogger logger, Exception error, string queue, double seconds);
}
