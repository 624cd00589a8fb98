using System.Collections.Concurrent;
using AlexNet.Pipeline.Messaging;

namespace AlexNet.Reliability.Tests.Fixtures;

internal enum Settlement
{
    Completed,
    Abandoned,
    DeadLettered,
}

/// <summary>
/// Queues of a real factory that remember every settlement that took effect (message id, how, which delivery). It
/// sits under the chaos decorator: a complete whose response was lost is still a completed message.
/// </summary>
internal sealed class SettlementLog(IWorkQueueFactory inner) : IWorkQueueFactory
{
    private readonly ConcurrentDictionary<string, LoggedQueue> queues = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string MessageId, Settlement Settlement, int DeliveryCount)> log = new();

    public IWorkQueue GetQueue(string name) => queues.GetOrAdd(name, n => new LoggedQueue(inner.GetQueue(n), log));

    public IReadOnlyList<(string MessageId, Settlement Settlement, int DeliveryCount)> Entries => [.. log];

    public int Completed => log.Where(e => e.Settlement == Settlement.Completed).Select(e => e.MessageId).Distinct(StringComparer.Ordinal).Count();

    public int Abandoned => log.Count(e => e.Settlement == Settlement.Abandoned);

    public int MaxDeliveryCount => log.IsEmpty ? 0 : log.Max(e => e.DeliveryCount);

    private sealed class LoggedQueue(IWorkQueue inner, ConcurrentQueue<(string, Settlement, int)> log) : IWorkQueue
    {
        public string Name => inner.Name;

        public Task SendAsync(IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken = default) => inner.SendAsync(messages, cancellationToken);

        public Task<IReadOnlyList<ReceivedMessage>> ReceiveAsync(int maxMessages, TimeSpan maxWait, CancellationToken cancellationToken = default) =>
            inner.ReceiveAsync(maxMessages, maxWait, cancellationToken);

        public async Task CompleteAsync(ReceivedMessage message, CancellationToken cancellationToken = default)
        {
            await inner.CompleteAsync(message, cancellationToken).ConfigureAwait(false);
            log.Enqueue((message.MessageId, Settlement.Completed, message.DeliveryCount));
        }

        public async Task AbandonAsync(ReceivedMessage message, CancellationToken cancellationToken = default)
        {
            await inner.AbandonAsync(message, cancellationToken).ConfigureAwait(false);
            log.Enqueue((message.MessageId, Settlement.Abandoned, message.DeliveryCount));
        }

        public async Task DeadLetterAsync(ReceivedMessage message, string reason, CancellationToken cancellationToken = default)
        {
            await inner.DeadLetterAsync(message, reason, cancellationToken).ConfigureAwait(false);
            log.Enqueue((message.MessageId, Settlement.DeadLettered, message.DeliveryCount));
        }

        public Task RenewLockAsync(ReceivedMessage message, CancellationToken cancellationToken = default) => inner.RenewLockAsync(message, cancellationToken);

        public IAsyncEnumerable<ReceivedMessage> PeekDeadLettersAsync(int max, CancellationToken cancellationToken = default) => inner.PeekDeadLettersAsync(max, cancellationToken);
    }
}
