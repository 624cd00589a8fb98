using AlexNet.Pipeline.Messaging;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Worker;

/// <summary>
/// What the label and train loops do the same way with their queue: receive, telling <see cref="QueueHealth"/> whether
/// the queue answered (and, in <see cref="ReceiveOrWaitAsync{T}"/>, waiting a receive's length after a failure, so a
/// dead queue is not hammered); and settle a message (complete, abandon, dead-letter) with its telemetry and, when the
/// queue refuses, a log line instead of an exception: a message not settled is delivered again, and every handler
/// makes that delivery a no-op or a resume.
/// </summary>
public sealed partial class WorkerQueue(IWorkQueue queue, QueueHealth health, WorkerTelemetry telemetry, TimeProvider time, ILogger logger)
{
    public IWorkQueue Queue => queue;

    public string Name => queue.Name;

    /// <summary>One receive of up to <paramref name="maxMessages"/>; its success or failure is recorded for the readiness probe.</summary>
    public async Task<IReadOnlyList<ReceivedMessage>> ReceiveAsync(int maxMessages, TimeSpan wait, CancellationToken cancellationToken)
    {
        try
        {
            IReadOnlyList<ReceivedMessage> messages = await queue.ReceiveAsync(maxMessages, wait, cancellationToken).ConfigureAwait(false);
            health.Succeeded(queue.Name);
            return messages;
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            health.Failed(queue.Name, error);
            throw;
        }
    }

    /// <summary>
    /// Runs a loop's receive; when it fails (the client has retried already) logs it and waits <paramref name="wait"/>
    /// before giving <c>default</c>, so the loop goes round again. Cancellation still throws.
    /// </summary>
    public async Task<T?> ReceiveOrWaitAsync<T>(Func<CancellationToken, Task<T>> receive, TimeSpan wait, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(receive);
        try
        {
            return await receive(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            LogReceiveFailed(logger, error, queue.Name, wait.TotalSeconds);
            await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
            return default;
        }
    }

    /// <summary>Completes the message; false (logged) when the queue refused, and it will be delivered again.</summary>
    public async Task<bool> CompleteAsync(ReceivedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            await queue.CompleteAsync(message, CancellationToken.None).ConfigureAwait(false);
            telemetry.MessageCompleted();
            return true;
        }
        catch (Exception error)
        {
            LogSettleFailed(logger, error, "complete", message.MessageId);
            return false;
        }
    }

    /// <summary>Abandons the message; false (logged) when the queue refused: its lock runs out by itself, with the same effect, later.</summary>
    public async Task<bool> AbandonAsync(ReceivedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            await queue.AbandonAsync(message, CancellationToken.None).ConfigureAwait(false);
            telemetry.MessageAbandoned();
            return true;
        }
        catch (Exception error)
        {
            LogSettleFailed(logger, error, "abandon", message.MessageId);
            return false;
        }
    }

    /// <summary>Dead-letters the message with <paramref name="reason"/> (logged as a warning); false (logged) when the queue refused.</summary>
    public async Task<bool> DeadLetterAsync(ReceivedMessage message, string reason)
    {
        ArgumentNullException.ThrowIfNull(message);
        LogDeadLettered(logger, message.MessageId, queue.Name, reason);
        try
        {
            await queue.DeadLetterAsync(message, reason, CancellationToken.None).ConfigureAwait(false);
            telemetry.MessageDeadLettered();
            return true;
        }
        catch (Exception error)
        {
            LogSettleFailed(logger, error, "dead-letter", message.MessageId);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Receiving from {Queue} failed; trying again in {Seconds:F0} s")]
    private static partial void LogReceiveFailed(ILogger logger, Exception error, string queue, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} dead-lettered from {Queue}: {Reason}")]
    private static partial void LogDeadLettered(ILogger logger, string messageId, string queue, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not {Action} message {MessageId}; it will be delivered again")]
    private static partial void LogSettleFailed(ILogger logger, Exception error, string action, string messageId);
}
