using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using AlexNet.Pipeline.Messaging;

namespace AlexNet.Pipeline.Resilience;

/// <summary>
/// An <see cref="IWorkQueue"/> whose every call may be delayed, fail, or take effect and then fail, as
/// <see cref="ChaosInjector"/> decides. A lost response is the nasty case: a receive that dequeued messages nobody
/// sees until their lock runs out, a send that went through although the sender was told otherwise, a complete that
/// worked but reads as failed. Faults imitate the wrapped backend's SDK (Service Bus or Azure Storage).
/// </summary>
public sealed class ChaosWorkQueue(IWorkQueue inner, ChaosInjector chaos) : IWorkQueue
{
    private readonly ChaosFaultFamily family = inner is ServiceBusWorkQueue ? ChaosFaultFamily.ServiceBus : ChaosFaultFamily.Storage;

    public IWorkQueue Inner => inner;

    public string Name => inner.Name;

    public Task SendAsync(IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        string target = messages.Count == 0 ? Name : $"{Name}/{messages[0].MessageId}+{messages.Count - 1}";
        return chaos.RunAsync(family, "queue.Send", target, token => inner.SendAsync(messages, token), cancellationToken);
    }

    public Task<IReadOnlyList<ReceivedMessage>> ReceiveAsync(int maxMessages, TimeSpan maxWait, CancellationToken cancellationToken = default) =>
        chaos.RunAsync(family, "queue.Receive", Name, token => inner.ReceiveAsync(maxMessages, maxWait, token), cancellationToken);

    public Task CompleteAsync(ReceivedMessage message, CancellationToken cancellationToken = default) =>
        chaos.RunAsync(family, "queue.Complete", Target(message), token => inner.CompleteAsync(message, token), cancellationToken);

    public Task AbandonAsync(ReceivedMessage message, CancellationToken cancellationToken = default) =>
        chaos.RunAsync(family, "queue.Abandon", Target(message), token => inner.AbandonAsync(message, token), cancellationToken);

    public Task DeadLetterAsync(ReceivedMessage message, string reason, CancellationToken cancellationToken = default) =>
        chaos.RunAsync(family, "queue.DeadLetter", Target(message), token => inner.DeadLetterAsync(message, reason, token), cancellationToken);

    public Task RenewLockAsync(ReceivedMessage message, CancellationToken cancellationToken = default) =>
        chaos.RunAsync(family, "queue.RenewLock", Target(message), token => inner.RenewLockAsync(message, token), cancellationToken);

    public async IAsyncEnumerable<ReceivedMessage> PeekDeadLettersAsync(int max, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await chaos.RunAsync(family, "queue.PeekDeadLetters", Name, static _ => Task.CompletedTask, cancellationToken).ConfigureAwait(false);
        await foreach (ReceivedMessage message in inner.PeekDeadLettersAsync(max, cancellationToken).ConfigureAwait(false))
            yield return message;
    }

    private string Target(ReceivedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return $"{Name}/{message.MessageId}/{message.DeliveryCount}";
    }
}

/// <summary>Hands out the wrapped factory's queues under chaos, one <see cref="ChaosWorkQueue"/> per name.</summary>
public sealed class ChaosWorkQueueFactory(IWorkQueueFactory inner, ChaosInjector chaos) : IWorkQueueFactory
{
    private readonly ConcurrentDictionary<string, ChaosWorkQueue> queues = new(StringComparer.Ordinal);

    public IWorkQueueFactory Inner => inner;

    public IWorkQueue GetQueue(string name) => queues.GetOrAdd(name, n => new ChaosWorkQueue(inner.GetQueue(n), chaos));
}
