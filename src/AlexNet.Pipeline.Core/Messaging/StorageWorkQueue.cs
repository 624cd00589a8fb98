using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Messaging;

/// <summary>
/// <see cref="IWorkQueue"/> on an Azure Storage Queue (or Azurite). The visibility timeout is the lock, renewed
/// with UpdateMessage; the dequeue count is the delivery count; after <see cref="WorkQueueOptions.MaxDeliveryCount"/>
/// deliveries a message moves to <c>&lt;name&gt;-poison</c> with the reason, as the Functions host does.
/// </summary>
/// <remarks>
/// Storage Queues have no duplicate detection: a message sent twice is delivered twice, whatever its MessageId,
/// so consumers must be idempotent (the pipeline's writes are). There is no long polling either, so an empty
/// receive polls every <see cref="WorkQueueOptions.PollInterval"/> until its wait is over. The client should
/// use Base64 message encoding (AzureClientsExtensions sets it), which is what the Functions queue trigger expects.
/// </remarks>
public sealed partial class StorageWorkQueue : IWorkQueue
{
    /// <summary>Storage Queues hand out at most this many messages per call.</summary>
    public const int MaxMessagesPerReceive = 32;

    public const string PoisonSuffix = "-poison";

    // Work must not expire silently: messages live until completed or moved to the poison queue.
    private static readonly TimeSpan NeverExpires = TimeSpan.FromSeconds(-1);

    private readonly QueueClient queue;
    private readonly QueueClient poison;
    private readonly WorkQueueOptions options;
    private readonly TimeProvider timeProvider;
    private readonly ILogger logger;

    public StorageWorkQueue(QueueServiceClient serviceClient, string name, WorkQueueOptions options, TimeProvider timeProvider, ILogger<StorageWorkQueue> logger)
    {
        ArgumentNullException.ThrowIfNull(serviceClient);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        if (name is null || name.Length < 3 || name.Length + PoisonSuffix.Length > 63 || !QueueNamePattern().IsMatch(name))
        {
            throw new ArgumentException(
                $"Queue name '{name}' must be 3-{63 - PoisonSuffix.Length} lowercase letters, digits or single hyphens (room is left for '{PoisonSuffix}').",
                nameof(name));
        }

        Name = name;
        queue = serviceClient.GetQueueClient(name);
        poison = serviceClient.GetQueueClient(name + PoisonSuffix);
        this.options = options;
        this.timeProvider = timeProvider;
        this.logger = logger;
    }

    public string Name { get; }

    public string PoisonQueueName => poison.Name;

    public async Task SendAsync(IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        foreach (var message in messages)
        {
            ArgumentException.ThrowIfNullOrEmpty(message.MessageId);
            var body = StorageQueueEnvelope.From(message).Serialize();
            // The clients send base64 (as the Functions queue trigger expects), so the service sees 4/3 of the envelope.
            int encoded = (body.ToMemory().Length + 2) / 3 * 4;
            if (encoded > queue.MessageMaxBytes)
            {
                throw new ArgumentException(
                    $"Message {message.MessageId} is {encoded} bytes in base64 on queue {Name}; a Storage Queue message holds at most {queue.MessageMaxBytes}.",
                    nameof(messages));
            }
            await WithQueueAsync(queue, () => queue.SendMessageAsync(body, TimeSpan.Zero, NeverExpires, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<IReadOnlyList<ReceivedMessage>> ReceiveAsync(int maxMessages, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxMessages);
        var deadline = timeProvider.GetUtcNow() + maxWait;
        var received = new List<ReceivedMessage>();
        while (true)
        {
            while (received.Count < maxMessages)
            {
                var ask = Math.Min(maxMessages - received.Count, MaxMessagesPerReceive);
                var page = await WithQueueAsync(queue, () => queue.ReceiveMessagesAsync(ask, options.LockDuration, cancellationToken), cancellationToken)
                    .ConfigureAwait(false);
                foreach (var message in page.Value)
                {
                    var lease = new StorageQueueLease(message);

                    // A message whose lock expired (its consumer died) comes back here with a count past the limit.
                    if (message.DequeueCount > options.MaxDeliveryCount)
                    {
                        await MoveToPoisonAsync(lease, DeadLetterReasons.MaxDeliveryCountExceeded, cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        received.Add(lease.ToReceived());
                    }
                }

                if (page.Value.Length < ask)
                {
                    break;
                }
            }

            var left = deadline - timeProvider.GetUtcNow();
            if (received.Count > 0 || left <= TimeSpan.Zero)
            {
                return received;
            }

            await Task.Delay(left < options.PollInterval ? left : options.PollInterval, timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task CompleteAsync(ReceivedMessage message, CancellationToken cancellationToken = default)
    {
        var lease = LeaseOf(message);
        await OnLockAsync(message, () => queue.DeleteMessageAsync(lease.MessageId, lease.PopReceipt, cancellationToken)).ConfigureAwait(false);
    }

    public async Task AbandonAsync(ReceivedMessage message, CancellationToken cancellationToken = default)
    {
        var lease = LeaseOf(message);
        if (lease.DequeueCount >= options.MaxDeliveryCount)
        {
            await MoveToPoisonAsync(lease, DeadLetterReasons.MaxDeliveryCountExceeded, cancellationToken, message).ConfigureAwait(false);
            return;
        }

        // Visible again at once; the next receive raises the dequeue count.
        var receipt = await OnLockAsync(message, () => queue.UpdateMessageAsync(lease.MessageId, lease.PopReceipt, (BinaryData?)null, TimeSpan.Zero, cancellationToken))
            .ConfigureAwait(false);
        lease.PopReceipt = receipt.Value.PopReceipt;
    }

    public Task DeadLetterAsync(ReceivedMessage message, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return MoveToPoisonAsync(LeaseOf(message), reason, cancellationToken, message);
    }

    public async Task RenewLockAsync(ReceivedMessage message, CancellationToken cancellationToken = default)
    {
        var lease = LeaseOf(message);

        // Each update issues a new pop receipt; the old one stops working, so the lease keeps the latest.
        var receipt = await OnLockAsync(message, () => queue.UpdateMessageAsync(lease.MessageId, lease.PopReceipt, (BinaryData?)null, options.LockDuration, cancellationToken))
            .ConfigureAwait(false);
        lease.PopReceipt = receipt.Value.PopReceipt;
    }

    public async IAsyncEnumerable<ReceivedMessage> PeekDeadLettersAsync(int max, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Peek sees only the first 32 messages of a queue; more need receiving, which would lock them.
        PeekedMessage[] peeked;
        try
        {
            peeked = (await poison.PeekMessagesAsync(Math.Clamp(max, 1, MaxMessagesPerReceive), cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException ex) when (ex.ErrorCode == QueueErrorCode.QueueNotFound)
        {
            yield break;
        }

        foreach (var message in peeked.Take(max))
        {
            var envelope = StorageQueueEnvelope.TryRead(message.Body);
            yield return envelope is null
                ? new ReceivedMessage(message.MessageId, message.Body, null, null, (int)message.DequeueCount, message.InsertedOn ?? default, message)
                : new ReceivedMessage(
                    envelope.Id,
                    BinaryData.FromBytes(envelope.Body),
                    envelope.Subject,
                    envelope.CorrelationId,
                    envelope.DeliveryCount ?? (int)message.DequeueCount,
                    envelope.EnqueuedAt ?? message.InsertedOn ?? default,
                    message,
                    envelope.DeadLetterReason);
        }
    }

    private async Task MoveToPoisonAsync(StorageQueueLease lease, string reason, CancellationToken cancellationToken, ReceivedMessage? received = null)
    {
        // Copy first, delete second: a crash in between leaves the message in both queues (it will be
        // delivered and poisoned again), never in neither.
        var copy = lease.ToPoison(reason).Serialize();
        await WithQueueAsync(poison, () => poison.SendMessageAsync(copy, TimeSpan.Zero, NeverExpires, cancellationToken), cancellationToken).ConfigureAwait(false);
        try
        {
            await queue.DeleteMessageAsync(lease.MessageId, lease.PopReceipt, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (IsLockLost(ex))
        {
            if (received is not null)
            {
                throw MessageLockLostException.For(Name, received, ex);
            }
        }

        LogMovedToPoison(logger, lease.Id, Name, poison.Name, reason, lease.DequeueCount);
    }

    private async Task<T> OnLockAsync<T>(ReceivedMessage message, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (IsLockLost(ex))
        {
            throw MessageLockLostException.For(Name, message, ex);
        }
    }

    private StorageQueueLease LeaseOf(ReceivedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.Handle as StorageQueueLease
            ?? throw new ArgumentException($"Message {message.MessageId} was not received from storage queue '{Name}'.", nameof(message));
    }

    private static async Task<T> WithQueueAsync<T>(QueueClient client, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.ErrorCode == QueueErrorCode.QueueNotFound)
        {
            // First use of a queue that does not exist yet: create it and call once more.
            await client.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return await call().ConfigureAwait(false);
        }
    }

    // A pop receipt stops working once the message is received again or deleted: the lock is gone.
    private static bool IsLockLost(RequestFailedException ex) =>
        ex.ErrorCode == QueueErrorCode.MessageNotFound || ex.ErrorCode == QueueErrorCode.PopReceiptMismatch || ex.Status == 404;

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex QueueNamePattern();

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Message {MessageId} moved from queue {Queue} to {PoisonQueue}: {Reason} (delivery {DeliveryCount})")]
    private static partial void LogMovedToPoison(ILogger logger, string messageId, string queue, string poisonQueue, string reason, long deliveryCount);

    /// <summary>The storage message behind a <see cref="ReceivedMessage"/>, with the pop receipt that is its lock.</summary>
    private sealed class StorageQueueLease
    {
        private readonly QueueMessage message;
        private readonly StorageQueueEnvelope? envelope;
        private string popReceipt;

        public StorageQueueLease(QueueMessage message)
        {
            this.message = message;
            envelope = StorageQueueEnvelope.TryRead(message.Body);
            popReceipt = message.PopReceipt;
        }

        public string MessageId => message.MessageId;

        public string Id => envelope?.Id ?? message.MessageId;

        public int DequeueCount => (int)message.DequeueCount;

        public string PopReceipt
        {
            get => Volatile.Read(ref popReceipt);
            set => Volatile.Write(ref popReceipt, value);
        }

        public ReceivedMessage ToReceived() => new(
            Id,
            envelope is null ? message.Body : BinaryData.FromBytes(envelope.Body),
            envelope?.Subject,
            envelope?.CorrelationId,
            DequeueCount,
            message.InsertedOn ?? default,
            this);

        public StorageQueueEnvelope ToPoison(string reason) =>
            (envelope ?? new StorageQueueEnvelope(StorageQueueEnvelope.CurrentVersion, message.MessageId, message.Body.ToArray()))
            with
            {
                DeadLetterReason = reason,
                DeliveryCount = DequeueCount,
                EnqueuedAt = message.InsertedOn,
            };
    }
}
