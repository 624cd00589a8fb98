using AlexNet.Pipeline.Messaging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Worker;

/// <summary>
/// The label loop: waits until a model is promoted, then receives rounds of label requests and hands each to
/// <see cref="LabelQueueProcessor"/>, looking for a newly promoted model between rounds. On shutdown it stops
/// receiving at once, lets the run in progress finish while the host's shutdown timeout allows (keeping a reserve
/// to settle), and abandons what it cannot finish, so every message is either completed or delivered again.
/// </summary>
public sealed partial class LabelWorker(
    LabelQueueProcessor processor,
    IOptions<WorkerOptions> options,
    IOptions<HostOptions> hostOptions,
    TimeProvider time,
    ILogger<LabelWorker> logger) : BackgroundService
{
    /// <summary>Polling for the first model is quicker than the refresh interval: an idle fleet should start promptly.</summary>
    public static readonly TimeSpan MaxFirstModelPoll = TimeSpan.FromSeconds(15);

    /// <summary>Time kept back from the shutdown timeout (at most a quarter of it) to abandon the messages of a run that had to be cut.</summary>
    public static readonly TimeSpan SettleReserve = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource abort = new(Timeout.InfiniteTimeSpan, time);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        WorkerOptions settings = options.Value;
        ModelHolder models = processor.Models;
        try
        {
            LogStarting(logger, processor.Queue.Name, models.Placement.ToString());
            TimeSpan firstPoll = settings.ModelRefreshInterval < MaxFirstModelPoll ? settings.ModelRefreshInterval : MaxFirstModelPoll;
            await models.WaitForModelAsync(firstPoll, stoppingToken).ConfigureAwait(false);
            long refreshed = time.GetTimestamp();
            while (!stoppingToken.IsCancellationRequested)
            {
                // Between rounds: no run holds the model now, so the old network is freed at once.
                if (time.GetElapsedTime(refreshed) >= settings.ModelRefreshInterval)
                {
                    await models.RefreshAsync(stoppingToken).ConfigureAwait(false);
                    refreshed = time.GetTimestamp();
                }

                IReadOnlyList<ReceivedMessage>? messages = await processor.Queue.ReceiveOrWaitAsync(processor.ReceiveAsync, settings.ReceiveWait, stoppingToken).ConfigureAwait(false);
                if (messages is { Count: > 0 })
                    await processor.ProcessAsync(messages, stoppingToken, abort.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown while waiting for a model or a message: nothing is in flight.
        }
        LogStopped(logger, processor.Queue.Name);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        TimeSpan timeout = hostOptions.Value.ShutdownTimeout;
        TimeSpan reserve = timeout / 4 < SettleReserve ? timeout / 4 : SettleReserve;
        abort.CancelAfter(timeout - reserve);
        await using CancellationTokenRegistration late = cancellationToken.Register(abort.Cancel);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        abort.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Label worker starting on queue {Queue}, network {Placement}")]
    private static partial void LogStarting(ILogger logger, string queue, string placement);

    [LoggerMessage(Level = LogLevel.Information, Message = "Label worker on queue {Queue} stopped")]
    private static partial void LogStopped(ILogger logger, string queue);
}
