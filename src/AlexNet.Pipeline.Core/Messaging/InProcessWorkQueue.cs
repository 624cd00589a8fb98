using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace AlexNet.Pipeline.Messaging;

/// <summary>
/// <see cref="IWorkQueue"/> in memory, with Service Bus's delivery rules: peek-lock with a lock that expires
/// (timed by <see cref="TimeProvider"/>, so tests can move time), delivery count, max delivery count then dead
/// letter, and duplicate suppression by MessageId within a window. For tests and the single-process pipeline;
/// messages die with the process.
/// </summary>
public sealed class InProcessWorkQueue : IWorkQueue
{
    private readonly Channel<Envelope> ready = Channel.CreateUnbounded<Envelope>();
    private readonly Lock gate = new();
    private readonly Dictionary<Guid, Lease> leases = [];
    private readonly Dictionary<string, DateTimeOffset> recentIds = new(StringComparer.Ordinal);
    private readonly Queue<(string Id, DateTimeOffset SentAt)> recentIdsBySendTime = new();
    private readonly ConcurrentQueue<ReceivedMessage> deadLetters = new();
    private readonly WorkQueueOptions options;
    private readonly TimeProvider timeProvider;

    public InProcessWorkQueue(string name, WorkQueueOptions options, TimeProvider timeProvider)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        Name = name;
        this.options = options;
        this.timeProvider = timeProvider;
    }

    public string Name { get; }

    public Task SendAsync(IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var now = timeProvider.GetUtcNow();
        lock (gate)
        {
            ForgetIdsOlderThan(now - options.DuplicateDetectionWindow);
            foreach (var message in messages)
            {
                ArgumentException.ThrowIfNullOrEmpty(message.MessageId);
                if (options.DuplicateDetectionWindow > TimeSpan.Zero && !recentIds.TryAdd(message.MessageId, now))
                {
                    continue; // a duplicate within the window: accepted and dropped, as Service Bus does
                }

                recentIdsBySendTime.Enqueue((message.MessageId, now));
                ready.Writer.TryWrite(new Envelope(message, now));
            }
        }

        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<ReceivedMessage>> ReceiveAsync(int maxMessages, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxMessages);
        if (!ready.Reader.TryPeek(out _) && maxWait > TimeSpan.Zero)
        {
            using var timeout = new CancellationTokenSource(maxWait, timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
            try
            {
                await ready.Reader.WaitToReadAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return [];
            }
        }

        var received = new List<ReceivedMessage>();
        while (received.Count < maxMessages && ready.Reader.TryRead(out var envelope))
        {
            lock (gate)
            {
                envelope.DeliveryCount++;
                var token = Guid.NewGuid();

                // The timer is created under the gate, so its callback cannot run before the lease is recorded.
                var timer = timeProvider.CreateTimer(
                    static state => ((LockExpiry)state!).Fire(), new LockExpiry(this, token), options.LockDuration, Timeout.InfiniteTimeSpan);
                leases[token] = new Lease(envelope, timer);
                received.Add(envelope.ToReceived(token));
            }
        }

        return received;
    }

    public Task CompleteAsync(ReceivedMessage message, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            TakeLease(message);
        }

        return Task.CompletedTask;
    }

    public Task AbandonAsync(ReceivedMessage message, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            Requeue(TakeLease(message).Envelope);
        }

        return Task.CompletedTask;
    }

    public Task DeadLetterAsync(ReceivedMessage message, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        lock (gate)
        {
            DeadLetter(TakeLease(message).Envelope, reason);
        }

        return Task.CompletedTask;
    }

    public Task RenewLockAsync(ReceivedMessage message, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            if (!leases.TryGetValue(TokenOf(message), out var lease))
            {
                throw MessageLockLostException.For(Name, message);
            }

            lease.Timer.Change(options.LockDuration, Timeout.InfiniteTimeSpan);
        }

        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<ReceivedMessage> PeekDeadLettersAsync(int max, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var message in deadLetters.Take(max))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return message;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    private void OnLockExpired(Guid token)
    {
        lock (gate)
        {
            if (leases.Remove(token, out var lease))
            {
                lease.Timer.Dispose();
                Requeue(lease.Envelope);
            }
        }
    }

    private Lease TakeLease(ReceivedMessage message)
    {
        if (!leases.Remove(TokenOf(message), out var lease))
        {
            throw MessageLockLostException.For(Name, message);
        }

        lease.Timer.Dispose();
        return lease;
    }

    private Guid TokenOf(ReceivedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.Handle is Guid token
            ? token
            : throw new ArgumentException($"Message {message.MessageId} was not received from in-process queue '{Name}'.", nameof(message));
    }

    private void Requeue(Envelope envelope)
    {
        if (envelope.DeliveryCount >= options.MaxDeliveryCount)
        {
            DeadLetter(envelope, DeadLetterReasons.MaxDeliveryCountExceeded);
        }
        else
        {
            ready.Writer.TryWrite(envelope);
        }
    }

    private void DeadLetter(Envelope envelope, string reason) => deadLetters.Enqueue(envelope.ToReceived(envelope, reason));

    private void ForgetIdsOlderThan(DateTimeOffset cutoff)
    {
        while (recentIdsBySendTime.TryPeek(out var oldest) && oldest.SentAt <= cutoff)
        {
            recentIdsBySendTime.Dequeue();
            recentIds.Remove(oldest.Id);
        }
    }

    private sealed class Envelope(OutgoingMessage message, DateTimeOffset enqueuedAt)
    {
        public int DeliveryCount { get; set; }

        public ReceivedMessage ToReceived(object handle, string? deadLetterReason = null) =>
            new(message.MessageId, message.Body, message.Subject, message.CorrelationId, DeliveryCount, enqueuedAt, handle, deadLetterReason);
    }

    private sealed record Lease(Envelope Envelope, ITimer Timer);

    private sealed class LockExpiry(InProcessWorkQueue queue, Guid token)
    {
        public void Fire() => queue.OnLockExpired(token);
    }
}
