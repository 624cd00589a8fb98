namespace AlexNet.Pipeline.Messaging;

/// <summary>
/// A message delivered under a lock (peek-lock on Service Bus, a visibility timeout on Storage Queues).
/// Settle it with <see cref="IWorkQueue.CompleteAsync"/>, <see cref="IWorkQueue.AbandonAsync"/> or
/// <see cref="IWorkQueue.DeadLetterAsync"/> on the queue that delivered it before the lock runs out;
/// otherwise it is delivered again.
/// </summary>
public sealed class ReceivedMessage
{
    internal ReceivedMessage(
        string messageId,
        BinaryData body,
        string? subject,
        string? correlationId,
        int deliveryCount,
        DateTimeOffset enqueuedAt,
        object handle,
        string? deadLetterReason = null)
    {
        MessageId = messageId;
        Body = body;
        Subject = subject;
        CorrelationId = correlationId;
        DeliveryCount = deliveryCount;
        EnqueuedAt = enqueuedAt;
        Handle = handle;
        DeadLetterReason = deadLetterReason;
    }

    public string MessageId { get; }

    public BinaryData Body { get; }

    public string? Subject { get; }

    public string? CorrelationId { get; }

    /// <summary>How many times the message has been handed out, this delivery included (1 on the first).</summary>
    public int DeliveryCount { get; }

    public DateTimeOffset EnqueuedAt { get; }

    /// <summary>Why the message was dead-lettered; set only on messages from <see cref="IWorkQueue.PeekDeadLettersAsync"/>.</summary>
    public string? DeadLetterReason { get; }

    /// <summary>The backend's own message or lock token; only the queue that delivered the message understands it.</summary>
    internal object Handle { get; }

    public override string ToString() => $"{MessageId} (delivery {DeliveryCount})";
}
