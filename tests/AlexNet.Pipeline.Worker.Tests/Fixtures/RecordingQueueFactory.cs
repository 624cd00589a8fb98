using System.Collections.Concurrent;
using AlexNet.Pipeline.Messaging;

namespace AlexNet.Pipeline.Worker.Tests.Fixtures;

/// <summary>How the worker settled a message.</summary>
public enum Settlement
{
    Completed,
    Abandoned,
    DeadLettered,
}

/// <summary>
/// Queues of a real factory (in-process or Azurite Storage Queues) that remember how each message was settled, in
/// order, by MessageId: what a test asserts on ("abandoned, then completed on redelivery").
/// </summary>
public sealed class RecordingQueueFactory(IWorkQueueFactory inner) : IWorkQueueFactory
{
    private readonly ConcurrentDictionary<string, RecordingQueue> queues = new(StringComparer.Ordinal);

    public IWorkQueue GetQueue(string name) => queues.GetOrAdd(name, n => new RecordingQueue(inner.GetQueue(n)));

    public RecordingQueue Queue(string name) => (RecordingQueue)GetQueue(name);
}

public sealed class RecordingQueue(IWorkQueue inner) : IWorkQueue
{
    private readonly ConcurrentQueue<(string MessageId, Settlement Settlement, int DeliveryCount)> log = new();

    public string Name => inner.Name;

    public IReadOnlyList<(string MessageId, Settlement Settlement, int DeliveryCount)> Log => [.. log];

    public IReadOnlyList<Settlement> Of(string messageId) => log.Where(e => e.MessageId == messageId).Select(e => e.Settlement).ToArray();

    public int CompletedCount => log.Where(e => e.Settlement == Settlement.Completed).Select(e => e.MessageId).Distinct().Count();

    public Task SendAsync(IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken = default) => inner.SendAsync(messages, cancellationToken);

    public Task<IReadOnlyList<ReceivedMessage>> ReceiveAsync(int maxMessages, TimeSpan maxWait, CancellationToken cancellationToken = default) =>
        inner.ReceiveAsync(maxMessages, maxWait, cancellationToken);

    public async Task CompleteAsync(ReceivedMessage message, CancellationToken cancellationToken = default)
    {
        await inner.CompleteAsync(message, cancellationToken);
        log.Enqueue((message.MessageId, Settlement.Completed, message.DeliveryCount));
    }

    public async Task AbandonAsync(ReceivedMessage message, CancellationToken cancellationToken = default)
    {
        await inner.AbandonAsync(message, cancellationToken);
        log.Enqueue((message.MessageId, Settlement.Abandoned, message.DeliveryCount));
    }

    public async Task DeadLetterAsync(ReceivedMessage message, string reason, CancellationToken cancellationToken = default)
    {
        await inner.DeadLetterAsync(message, reason, cancellationToken);
        log.Enqueue((message.MessageId, Settlement.DeadLettered, message.DeliveryCount));
    }

    public Task RenewLockAsync(ReceivedMessage message, CancellationToken cancellationToken = default) => inner.RenewLockAsync(message, cancellationToken);

    public IAsyncEnumerable<ReceivedMessage> PeekDeadLettersAsync(int max, CancellationToken cancellationToken = default) => inner.PeekDeadLettersAsync(max, cancellationToken);
}
