using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Metering;
using AlexNet.Pipeline.Storage;
using AlexNet.Testing;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Logging.Abstractions;

namespace AlexNet.Reliability.Tests.Fixtures;

/// <summary>
/// One test's corner of an Azurite account: containers and Storage Queues named with a per-test suffix (blobs through
/// <see cref="IsolatedBlobStore"/>, queues through <see cref="IsolatedQueueFactory"/>), writes counted, settlements
/// logged; all of it deleted again on dispose.
/// </summary>
internal sealed class IsolatedAccount : IAsyncDisposable
{
    /// <summary>The account <c>scripts/azurite.sh start</c> runs on 127.0.0.1:10000-10002.</summary>
    public const string SharedAzurite = Azurite.ConnectionString;

    private readonly BlobServiceClient blobs;
    private readonly QueueServiceClient queues;

    public IsolatedAccount(WorkQueueOptions queueOptions, string connectionString = SharedAzurite)
    {
        if (connectionString == SharedAzurite)
            RequireSharedAzurite();
        Suffix = Guid.NewGuid().ToString("N")[..12];
        blobs = new BlobServiceClient(connectionString);
        queues = new QueueServiceClient(connectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        Store = new CountingBlobStore(new IsolatedBlobStore(new AzureBlobStore(blobs, NullLogger<AzureBlobStore>.Instance), Suffix), new RequestCounter(), perBlob: true);
        Queues = new SettlementLog(new IsolatedQueueFactory(new StorageWorkQueueFactory(queues, queueOptions, TimeProvider.System, NullLogger<StorageWorkQueue>.Instance), Suffix));
    }

    public string Suffix { get; }

    /// <summary>
    /// The isolated store, counting requests and each blob's writes that took effect: what the code under test gets. It sits
    /// under the chaos decorator, if any, so a write whose response chaos threw away still counts.
    /// </summary>
    public CountingBlobStore Store { get; }

    public SettlementLog Queues { get; }

    /// <summary>Messages still in the queue, locked or not (Azure's approximate count, exact on Azurite).</summary>
    public Task<int> MessagesLeftAsync(string queue) => CountAsync(IsolatedQueueFactory.Map(queue, Suffix));

    public Task<int> DeadLettersAsync(string queue) => CountAsync(IsolatedQueueFactory.Map(queue, Suffix) + StorageWorkQueue.PoisonSuffix);

    public async ValueTask DisposeAsync()
    {
        await foreach (var container in blobs.GetBlobContainersAsync())
        {
            if (container.Name.EndsWith("-" + Suffix, StringComparison.Ordinal))
                await blobs.DeleteBlobContainerAsync(container.Name);
        }
        await foreach (var queue in queues.GetQueuesAsync())
        {
            if (queue.Name.Contains("-" + Suffix, StringComparison.Ordinal))
                await queues.DeleteQueueAsync(queue.Name);
        }
    }

    public static void RequireSharedAzurite() => Azurite.Require(tables: true);

    private async Task<int> CountAsync(string queue)
    {
        try
        {
            return (await queues.GetQueueClient(queue).GetPropertiesAsync()).Value.ApproximateMessagesCount;
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
            return 0;
        }
    }
}

/// <summary>Queues named <c>&lt;name&gt;-&lt;suffix&gt;</c>: the code under test asks for <c>label-requests</c> and gets this test's own.</summary>
internal sealed class IsolatedQueueFactory(IWorkQueueFactory inner, string suffix) : IWorkQueueFactory
{
    public static string Map(string name, string suffix) => $"{name}-{suffix}";

    public IWorkQueue GetQueue(string name) => inner.GetQueue(Map(name, suffix));
}
