using AlexNet.Pipeline.Messaging;
using Azure.Messaging.ServiceBus;

namespace AlexNet.Pipeline.Tests.Messaging;

/// <summary>The Service Bus translation, with messages built by the SDK's own model factory.</summary>
public sealed class ServiceBusMessageMappingTests
{
    [Fact]
    public void AReceivedMessageCarriesIdBodyDeliveryCountAndProperties()
    {
        var enqueued = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
        var serviceBusMessage = ServiceBusModelFactory.ServiceBusReceivedMessage(
            body: BinaryData.FromString("{\"ref\":\"incoming/b/1.jpg\"}"),
            messageId: "image-1",
            correlationId: "batch-b",
            subject: "label",
            deliveryCount: 4,
            enqueuedTime: enqueued,
            lockTokenGuid: Guid.NewGuid());

        var message = ServiceBusMessageMapping.ToReceived(serviceBusMessage);

        Assert.Equal("image-1", message.MessageId);
        Assert.Equal("{\"ref\":\"incoming/b/1.jpg\"}", message.Body.ToString());
        Assert.Equal("label", message.Subject);
        Assert.Equal("batch-b", message.CorrelationId);
        Assert.Equal(4, message.DeliveryCount);
        Assert.Equal(enqueued, message.EnqueuedAt);
        Assert.Null(message.DeadLetterReason);
        Assert.Same(serviceBusMessage, message.Handle);
    }

    [Fact]
    public void ADeadLetteredMessageCarriesItsReason()
    {
        var serviceBusMessage = ServiceBusModelFactory.ServiceBusReceivedMessage(
            body: BinaryData.FromString("x"),
            messageId: "image-2",
            deliveryCount: 10,
            properties: new Dictionary<string, object> { ["DeadLetterReason"] = DeadLetterReasons.MaxDeliveryCountExceeded }); // where Service Bus keeps it

        var message = ServiceBusMessageMapping.ToReceived(serviceBusMessage);

        Assert.Equal(DeadLetterReasons.MaxDeliveryCountExceeded, message.DeadLetterReason);
        Assert.Equal(10, message.DeliveryCount);
    }

    [Fact]
    public void AnOutgoingMessageKeepsItsIdForDuplicateDetection()
    {
        var message = ServiceBusMessageMapping.ToServiceBus(new OutgoingMessage("image-3", BinaryData.FromString("body"), "label", "batch-c"));

        Assert.Equal("image-3", message.MessageId);
        Assert.Equal("body", message.Body.ToString());
        Assert.Equal("label", message.Subject);
        Assert.Equal("batch-c", message.CorrelationId);
    }

    [Fact]
    public void AnOutgoingMessageWithoutAnIdIsRefused()
    {
        Assert.Throws<ArgumentException>(() => ServiceBusMessageMapping.ToServiceBus(new OutgoingMessage("", BinaryData.FromString("body"))));
    }

    [Fact]
    public async Task SettlingAMessageFromAnotherBackendIsRefusedWithoutCallingTheService()
    {
        await using var client = new ServiceBusClient("Endpoint=sb://unused.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=a2V5");
        await using var queue = new ServiceBusWorkQueue(client, "work", new WorkQueueOptions());
        var inProcess = new InProcessWorkQueue("work", new WorkQueueOptions(), TimeProvider.System);
        await inProcess.SendAsync([new OutgoingMessage("m", BinaryData.FromString("x"))]);
        var foreign = Assert.Single(await inProcess.ReceiveAsync(1, TimeSpan.Zero));

        await Assert.ThrowsAsync<ArgumentException>(() => queue.CompleteAsync(foreign));
    }
}
