using System.Text;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Tests.Fixtures;
using Azure.Storage.Queues;
using Microsoft.Extensions.Logging.Abstractions;

namespace AlexNet.Pipeline.Tests.Messaging;

/// <summary>The queue contract against Azurite's Queue service.</summary>
public sealed class StorageWorkQueueTests : WorkQueueContract, IClassFixture<AzuriteFixture>
{
    private readonly QueueServiceClient client = new(AzuriteFixture.ConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    public StorageWorkQueueTests(AzuriteFixture azurite)
    {
        _ = azurite;
        Queue = new StorageWorkQueue(client, QueueName, Options, TimeProvider.System, NullLogger<StorageWorkQueue>.Instance);
    }

    protected override IWorkQueue Queue { get; }

    protected override bool SuppressesDuplicates => false;

    public override async Task DisposeAsync()
    {
        await client.GetQueueClient(QueueName).DeleteIfExistsAsync();
        await client.GetQueueClient(QueueName + StorageWorkQueue.PoisonSuffix).DeleteIfExistsAsync();
    }

    [Fact]
    public async Task AMessageAbandonedByACrashedConsumerIsPoisonedOnItsNextReceive()
    {
        var crashing = new StorageWorkQueue(client, QueueName, Options, TimeProvider.System, NullLogger<StorageWorkQueue>.Instance);
        await crashing.SendAsync([new OutgoingMessage("crashes-worker", BinaryData.FromString("x"))]);

        // Every consumer dies without settling: only the visibility timeout brings the message back.
        var deliveries = 0;
        var deadline = DateTimeOffset.UtcNow.AddSeconds(20);
        while (DateTimeOffset.UtcNow < deadline && deliveries < MaxDeliveryCount)
        {
            deliveries += (await crashing.ReceiveAsync(1, TimeSpan.FromSeconds(3))).Count;
        }

        Assert.Equal(MaxDeliveryCount, deliveries);
        Assert.Empty(await crashing.ReceiveAsync(1, LockDuration + TimeSpan.FromSeconds(1)));
        var dead = Assert.Single(await DeadLettersAsync(5));
        Assert.Equal("crashes-worker", dead.MessageId);
        Assert.Equal(DeadLetterReasons.MaxDeliveryCountExceeded, dead.DeadLetterReason);
        Assert.Equal(MaxDeliveryCount + 1, dead.DeliveryCount);
    }

    [Fact]
    public async Task MessagesAreBase64OnTheWireAsTheFunctionsQueueTriggerExpects()
    {
        await Queue.SendAsync([new OutgoingMessage("m1", BinaryData.FromString("payload"))]);

        var raw = new QueueClient(AzuriteFixture.ConnectionString, QueueName);
        var peeked = Assert.Single((await raw.PeekMessagesAsync(1)).Value);
        var json = Encoding.UTF8.GetString(Convert.FromBase64String(peeked.MessageText));

        Assert.Contains("\"id\":\"m1\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALabelRequestAtTheInlineLimitFitsAndAMessageTooLargeForTheServiceIsRefusedByName()
    {
        var atLimit = new OutgoingMessage("at-limit", BinaryData.FromBytes(new byte[AlexNet.Pipeline.Contracts.LabelRequest.MaxInlineBodyBytes]));
        var tooLarge = new OutgoingMessage("too-large", BinaryData.FromBytes(new byte[48 * 1024]));

        await Queue.SendAsync([atLimit]);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Queue.SendAsync([tooLarge]));

        Assert.Contains("Message too-large is", error.Message, StringComparison.Ordinal);
        Assert.Contains("holds at most 65536", error.Message, StringComparison.Ordinal);
        var received = Assert.Single(await ReceiveAsync(1));
        Assert.Equal(("at-limit", AlexNet.Pipeline.Contracts.LabelRequest.MaxInlineBodyBytes), (received.MessageId, received.Body.ToMemory().Length));
        await Queue.CompleteAsync(received);
    }

    [Fact]
    public async Task MessagesWrittenByOtherToolsAreReceivedAsBareBodies()
    {
        var foreign = client.GetQueueClient(QueueName);
        await foreign.CreateIfNotExistsAsync();
        var sent = await foreign.SendMessageAsync("{\"eventType\":\"Microsoft.Storage.BlobCreated\"}");

        var message = Assert.Single(await ReceiveAsync(1));

        Assert.Equal(sent.Value.MessageId, message.MessageId);
        Assert.Equal("{\"eventType\":\"Microsoft.Storage.BlobCreated\"}", message.Body.ToString());
        await Queue.CompleteAsync(message);
    }

    [Theory]
    [InlineData("UPPER")]
    [InlineData("ab")]
    [InlineData("a-name-that-leaves-no-room-for-the-poison-suffix-at-all-x")]
    public void QueueNamesAzureWouldRefuseAreRefusedUpFront(string name)
    {
        Assert.Throws<ArgumentException>(() => new StorageWorkQueue(client, name, Options, TimeProvider.System, NullLogger<StorageWorkQueue>.Instance));
    }
}
