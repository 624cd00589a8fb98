using AlexNet.Pipeline.Messaging;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Worker;

/// <summary>
/// Keeps the locks of received messages alive while their work runs: every <c>interval</c> (a
/// <see cref="PeriodicTimer"/> on the host's <see cref="TimeProvider"/>) it renews each message not yet handed back
/// with <see cref="ReleaseAsync"/>. A message whose lock is found lost is reported by <see cref="IsLost"/>: another
/// consumer may have it now, so settling it would fail anyway.
/// </summary>
public sealed partial class MessageLockRenewer : IAsyncDisposable
{
    private readonly IWorkQueue queue;
    private readonly ILogger logger;
    private readonly HashSet<ReceivedMessage> tracked;
    private readonly HashSet<ReceivedMessage> lost = [];
    private readonly SemaphoreSlim round = new(1, 1);
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;
    private int renewals;

    public MessageLockRenewer(IWorkQueue queue, IEnumerable<ReceivedMessage> messages, TimeSpan interval, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(time);
        this.queue = queue;
        this.logger = logger;
        tracked = [.. messages];
        loop = RunAsync(new PeriodicTimer(interval, time));
    }

    /// <summary>Renewals that worked, for tests and logs.</summary>
    public int Renewals => Volatile.Read(ref renewals);

    /// <summary>Stops renewing <paramref name="message"/>, waiting for a renewal of it in progress so that a settle never races one.</summary>
    public async Task ReleaseAsync(ReceivedMessage message)
    {
        await round.WaitAsync().ConfigureAwait(false);
        try
        {
            lock (tracked)
                tracked.Remove(message);
        }
        finally
        {
            round.Release();
        }
    }

    public bool IsLost(ReceivedMessage message)
    {
        lock (lost)
            return lost.Contains(message);
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync().ConfigureAwait(false);
        await loop.ConfigureAwait(false);
        stop.Dispose();
        round.Dispose();
    }

    private async Task RunAsync(PeriodicTimer timer)
    {
        using (timer)
        {
            try
            {
                while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false))
                {
                    await round.WaitAsync(stop.Token).ConfigureAwait(false);
                    try
                    {
                        ReceivedMessage[] due;
                        lock (tracked)
                            due = [.. tracked];
                        await Task.WhenAll(due.Select(RenewAsync)).ConfigureAwait(false);
                    }
                    finally
                    {
                        round.Release();
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Disposed: the work is over.
            }
        }
    }

    private async Task RenewAsync(ReceivedMessage message)
    {
        try
        {
            await queue.RenewLockAsync(message, stop.Token).ConfigureAwait(false);
            Interlocked.Increment(ref renewals);
        }
        catch (MessageLockLostException error)
        {
            lock (tracked)
                tracked.Remove(message);
            lock (lost)
                lost.Add(message);
            LogLockLost(logger, error, message.MessageId, queue.Name);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // A transient failure: the next tick tries again, and the lock is usually still good until then.
            LogRenewFailed(logger, error, message.MessageId, queue.Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lock of message {MessageId} on {Queue} was lost; it will be delivered again and its work repeated idempotently")]
    private static partial void LogLockLost(ILogger logger, Exception error, string messageId, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the lock of message {MessageId} on {Queue} failed; retrying at the next interval")]
    private static partial void LogRenewFailed(ILogger logger, Exception error, string messageId, string queue);
}
