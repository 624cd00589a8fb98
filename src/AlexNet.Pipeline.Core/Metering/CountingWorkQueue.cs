using AlexNet.Pipeline.Messaging;

namespace AlexNet.Pipeline.Metering;

/// <summary>
/// An <see cref="IWorkQueue"/> that counts each call by kind into a <see cref="RequestCounter"/> before passing it on.
/// A send counts one request per message, as Storage Queues take them; a receive counts one per call, though a Storage
/// Queue receive that waits polls the service more than once and one for more than 32 messages asks for several pages.
/// </summary>
public sealed class CountingWorkQueue(IWorkQueue inner, RequestCounter counter) : IWorkQueue
{
    public string Name => inner.Name;

    public Task SendAsync(IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        counter.Add(RequestKind.Send, messages.Count);
        return inner.SendAsync(messages, cancellationToken);
    }

    public Task<IReadOnlyList<ReceivedMessage>> ReceiveAsync(int maxMessages, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        counter.Add(RequestKind.Receive);
        return inner.ReceiveAsync(maxMessages, maxWait, cancellationToken);
    }

    public Task CompleteAsync(ReceivedMessage message, CancellationToken cancellationToken = default)
    {
        counter.Add(RequestKind.Settle);
        return inner.CompleteAsync(message, cancellationToken);
    }

    public Task AbandonAsync(ReceivedMessage message, CancellationToken cancellationToken = default)
    {
        counter.Add(RequestKind.Settle);
        return inner.AbandonAsync(message, cancellationToken);
    }

    public Task DeadLetterAsync(ReceivedMessage message, string reason, CancellationToken cancellationToken = default)
    {
        counter.Add(RequestKind.Settle);
        return inner.DeadLetterAsync(message, reason, cancellationToken);
    }

    public Task RenewLockAsync(ReceivedMessage message, CancellationToken cancellationToken = default)
    {
        counter.Add(RequestKind.RenewLock);
        return inner.RenewLockAsync(message, cancellationToken);
    }

    public IAsyncEnumerable<ReceivedMessage> PeekDeadLettersAsync(int max, CancellationToken cancellationToken = default)
    {
        counter.Add(RequestKind.PeekDeadLetters);
        return inner.PeekDeadLettersAsync(max, cancellationToken);
    }
}

/// <summary>Hands out <see cref="CountingWorkQueue"/>s over the queues of <paramref name="inner"/>, all counting into one counter.</summary>
public sealed class CountingWorkQueueFactory(IWorkQueueFactory inner, RequestCounter counter) : IWorkQueueFactory
{
    public RequestCounter Counter => counter;

    public IWorkQueue GetQueue(string name) => new CountingWorkQueue(inner.GetQueue(name), counter);
}
