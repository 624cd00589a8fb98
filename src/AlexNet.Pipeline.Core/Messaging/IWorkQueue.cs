namespace AlexNet.Pipeline.Messaging;

/// <summary>
/// A competing-consumers work queue with at-least-once delivery: a received message is locked, not removed,
/// until it is completed; an abandoned or expired one comes back with a higher delivery count, and after
/// the queue's maximum delivery count it moves to the dead letters. Handlers must therefore be idempotent.
/// Settling a message whose lock has expired throws <see cref="MessageLockLostException"/>.
/// </summary>
public interface IWorkQueue
{
    string Name { get; }

    Task SendAsync(IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken = default);

    /// <summary>Waits up to <paramref name="maxWait"/> for a first message, then returns at most <paramref name="maxMessages"/> (possibly none).</summary>
    Task<IReadOnlyList<ReceivedMessage>> ReceiveAsync(int maxMessages, TimeSpan maxWait, CancellationToken cancellationToken = default);

    /// <summary>Removes the message for good.</summary>
    Task CompleteAsync(ReceivedMessage message, CancellationToken cancellationToken = default);

    /// <summary>Releases the lock: the message is visible again and its delivery count grows.</summary>
    Task AbandonAsync(ReceivedMessage message, CancellationToken cancellationToken = default);

    /// <summary>Moves the message to the dead letters with <paramref name="reason"/>.</summary>
    Task DeadLetterAsync(ReceivedMessage message, string reason, CancellationToken cancellationToken = default);

    /// <summary>Extends the lock by the queue's lock duration, counted from now.</summary>
    Task RenewLockAsync(ReceivedMessage message, CancellationToken cancellationToken = default);

    /// <summary>Reads up to <paramref name="max"/> dead letters without removing them; each carries its <see cref="ReceivedMessage.DeadLetterReason"/>.</summary>
    IAsyncEnumerable<ReceivedMessage> PeekDeadLettersAsync(int max, CancellationToken cancellationToken = default);
}

/// <summary>Hands out the queue of a given name; the same name gives a queue over the same messages.</summary>
public interface IWorkQueueFactory
{
    IWorkQueue GetQueue(string name);
}
