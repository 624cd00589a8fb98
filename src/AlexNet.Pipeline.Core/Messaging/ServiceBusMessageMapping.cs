using Azure.Messaging.ServiceBus;

namespace AlexNet.Pipeline.Messaging;

/// <summary>Translation between the pipeline's messages and Service Bus's, kept apart so it can be tested without a namespace.</summary>
internal static class ServiceBusMessageMapping
{
    public static ServiceBusMessage ToServiceBus(OutgoingMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentException.ThrowIfNullOrEmpty(message.MessageId);

        // MessageId is what Service Bus's duplicate detection keys on (when the queue has it enabled).
        return new ServiceBusMessage(message.Body)
        {
            MessageId = message.MessageId,
            Subject = message.Subject,
            CorrelationId = message.CorrelationId,
        };
    }

    public static ReceivedMessage ToReceived(ServiceBusReceivedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return new ReceivedMessage(
            message.MessageId,
            message.Body,
            message.Subject,
            message.CorrelationId,
            message.DeliveryCount,
            message.EnqueuedTime,
            message,
            message.DeadLetterReason);
    }
}
