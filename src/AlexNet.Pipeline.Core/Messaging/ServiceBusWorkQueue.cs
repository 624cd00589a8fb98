using System.Runtime.CompilerServices;
using Azure.Messaging.ServiceBus;

namespace AlexNet.Pipeline.Messaging;

/// <summary>
/// <see cref="IWorkQueue"/> on an Azure Service Bus queue, received in peek-lock mode with prefetch. Lock
/// duration, max delivery count and duplicate detection (on MessageId) are properties of the queue entity;
/// this class uses what the entity offers. Dead letters are read from the queue's <c>$deadletterqueue</c>.
/// Retries of transient faults come from the client's <see cref="ServiceBusRetryOptions"/>.
/// </summary>
public sealed class ServiceBusWorkQueue : IWorkQueue, IAsyncDisposable
{
    private readonly ServiceBusClient client;
    private readonly ServiceBusSender sender;
    private readonly ServiceBusReceiver receiver;

    public ServiceBusWorkQueue(ServiceBusClient client, string name, WorkQueueOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(options);
        this.client = client;
        Name = name;
        sender = client.CreateSender(name);
        receiver = client.CreateReceiver(name, new ServiceBusReceiverOptions
        {
            ReceiveMode = ServiceBusReceiveMode.PeekLock,
            PrefetchCount = options.PrefetchCount,
        });
    }

    public string Name { get; }

    public async Task SendAsync(IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var batch = await sender.CreateMessageBatchAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var message in messages)
            {
                var serviceBusMessage = ServiceBusMessageMapping.ToServiceBus(message);
                if (batch.TryAddMessage(serviceBusMessage))
                {
                    continue;
                }

                if (batch.Count == 0)
                {
                    throw new ArgumentException($"Message {message.MessageId} is larger than a Service Bus batch allows; send a reference instead.", nameof(messages));
                }

                await sender.SendMessagesAsync(batch, cancellationToken).ConfigureAwait(false);
                batch.Dispose();
                batch = await sender.CreateMessageBatchAsync(cancellationToken).ConfigureAwait(false);
                if (!batch.TryAddMessage(serviceBusMessage))
                {
                    throw new ArgumentException($"Message {message.MessageId} is larger than a Service Bus batch allows; send a reference instead.", nameof(messages));
                }
            }

            if (batch.Count > 0)
            {
                await sender.SendMessagesAsync(batch, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            batch.Dispose();
        }
    }

    public async Task<IReadOnlyList<ReceivedMessage>> ReceiveAsync(int maxMessages, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxMessages);

        // The client wants a positive wait; a zero wait still returns what prefetch already holds.
        var wait = maxWait > TimeSpan.Zero ? maxWait : TimeSpan.FromMilliseconds(1);
        var messages = await receiver.ReceiveMessagesAsync(maxMessages, wait, cancellationToken).ConfigureAwait(false);
        return messages.Select(ServiceBusMessageMapping.ToReceived).ToList();
    }

    public Task CompleteAsync(ReceivedMessage message, CancellationToken cancellationToken = default) =>
        SettleAsync(message, m => receiver.CompleteMessageAsync(m, cancellationToken));

    public Task AbandonAsync(ReceivedMessage message, CancellationToken cancellationToken = default) =>
        SettleAsync(message, m => receiver.AbandonMessageAsync(m, cancellationToken: cancellationToken));

    public Task DeadLetterAsync(ReceivedMessage message, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return SettleAsync(message, m => receiver.DeadLetterMessageAsync(m, deadLetterReason: reason, cancellationToken: cancellationToken));
    }

    public Task RenewLockAsync(ReceivedMessage message, CancellationToken cancellationToken = default) =>
        SettleAsync(message, m => receiver.RenewMessageLockAsync(m, cancellationToken));

    public async IAsyncEnumerable<ReceivedMessage> PeekDeadLettersAsync(int max, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // A fresh receiver peeks from the start of the dead-letter queue; one kept open would resume where it stopped.
        var deadLetters = client.CreateReceiver(Name, new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        await using (deadLetters.ConfigureAwait(false))
        {
            var seen = 0;
            while (seen < max)
            {
                var page = await deadLetters.PeekMessagesAsync(max - seen, cancellationToken: cancellationToken).ConfigureAwait(false);
                if (page.Count == 0)
                {
                    yield break;
                }

                foreach (var message in page)
                {
                    seen++;
                    yield return ServiceBusMessageMapping.ToReceived(message);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await receiver.DisposeAsync().ConfigureAwait(false);
        await sender.DisposeAsync().ConfigureAwait(false);
    }

    private async Task SettleAsync(ReceivedMessage message, Func<ServiceBusReceivedMessage, Task> settle)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Handle is not ServiceBusReceivedMessage serviceBusMessage)
        {
            throw new ArgumentException($"Message {message.MessageId} was not received from Service Bus queue '{Name}'.", nameof(message));
        }

        try
        {
            await settle(serviceBusMessage).ConfigureAwait(false);
        }
        catch (ServiceBusException ex) when (ex.Reason == ServiceBusFailureReason.MessageLockLost)
        {
            throw MessageLockLostException.For(Name, message, ex);
        }
    }
}
