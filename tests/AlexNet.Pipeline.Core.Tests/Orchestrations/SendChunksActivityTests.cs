using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Orchestrations;
using AlexNet.Pipeline.Storage;
using AlexNet.Pipeline.Tests.Fixtures;
using AlexNet.Pipeline.Worker;
using AlexNet.Model.Inference;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace AlexNet.Pipeline.Tests.Orchestrations;

/// <summary>
/// ListAndChunk then SendChunks as the activity triggers call them, onto an Azurite Storage Queue (64 KB a message):
/// a chunk whose paths do not fit in a message goes by reference to its request blob.
/// </summary>
public sealed class SendChunksActivityTests : IClassFixture<AzuriteFixture>, IAsyncLifetime
{
    private readonly string root = Directory.CreateTempSubdirectory("alexnet-send-").FullName;
    private readonly string queueName = UniqueNames.For("send");
    private readonly QueueServiceClient client = new(AzuriteFixture.ConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
    private readonly ServiceProvider services;
    private readonly IBlobStore store;
    private readonly IWorkQueue queue;

    public SendChunksActivityTests(AzuriteFixture azurite)
    {
        _ = azurite;
        store = new LocalFolderBlobStore(root);
        var queues = new StorageWorkQueueFactory(client, new WorkQueueOptions(), TimeProvider.System, NullLogger<StorageWorkQueue>.Instance);
        queue = queues.GetQueue(queueName);
        services = new ServiceCollection()
            .AddLogging()
            .AddSingleton(store)
            .AddSingleton<IWorkQueueFactory>(new RenamedQueues(queues, queueName))
            .AddPipelineOrchestrations()
            .BuildServiceProvider();
    }

    [Fact]
    public async Task AChunkTooLargeForOneMessageIsSentByReferenceAndTheWorkerGetsItsPathsBack()
    {
        // 120 images under long names (about 330 characters, as deep folder trees give): 100 of them are ~37 KB of paths.
        string folders = string.Join('/', Enumerable.Range(0, 5).Select(i => new string((char)('a' + i), 60)));
        for (int i = 0; i < 120; i++)
            await store.UploadAsync("incoming", $"b/{folders}/{i:D3}.jpg", BinaryData.FromBytes([1]));

        ChunkPlan plan = await services.GetRequiredService<ListAndChunkActivity>()
            .RunAsync(new ActivityInvocationContext(OrchestrationNames.ListAndChunk, "b"), new ListAndChunkInput("b", "incoming", "b/", 100));
        int sent = await services.GetRequiredService<SendChunksActivity>()
            .RunAsync(new ActivityInvocationContext(OrchestrationNames.SendChunks, "b"), new SendChunksInput("b", [0, 1], 0, null));

        Assert.Equal((2, 2), (plan.Chunks, sent));
        var requests = new List<LabelRequest>();
        for (int attempt = 0; attempt < 10 && requests.Count < 2; attempt++)
        {
            foreach (ReceivedMessage message in await queue.ReceiveAsync(2, TimeSpan.FromSeconds(2)))
            {
                requests.Add(ContractSerializer.FromBinary<LabelRequest>(message.Body));
                await queue.CompleteAsync(message);
            }
        }
        LabelRequest large = Assert.Single(requests, r => r.Chunk == "c00000");
        LabelRequest small = Assert.Single(requests, r => r.Chunk == "c00001");
        Assert.True(large.PathsInChunkRequest);
        Assert.Empty(large.Items!);
        Assert.False(small.PathsInChunkRequest);
        Assert.Equal(20, small.Items!.Count);

        // The worker's reading of the message: valid as it is, complete once the request blob fills in the items.
        var (valid, error) = LabelRequestReader.Read(ContractSerializer.ToBinary(large), CropMode.Center);
        Assert.Null(error);
        ChunkRequestFile file = ChunkRequestFile.Parse(
            (await store.DownloadAsync(PipelineNames.RunsContainer, PipelineNames.ChunkRequestBlob("b", "c00000")))!.Content)!;
        var (withItems, fileError) = LabelRequestReader.WithItems(valid!.Request, file);
        Assert.Null(fileError);
        Assert.Equal(100, withItems!.Items!.Count);
        Assert.Equal($"b/{folders}/000.jpg", withItems.Items[0].Path);
        Assert.All(withItems.Items, item => Assert.False(string.IsNullOrEmpty(item.ETag)));
        Assert.False(withItems.PathsInChunkRequest);
        Assert.Contains("not the message's", LabelRequestReader.WithItems(valid.Request, file with { Chunk = "c00001" }).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void ARequestByReferenceThatAlsoCarriesItemsOrIsAnIngestChunkIsPoison()
    {
        var byReference = new LabelRequest("b", "c00000", "incoming", [], DateTimeOffset.UnixEpoch, PathsInChunkRequest: true);

        Assert.Null(LabelRequestReader.Read(ContractSerializer.ToBinary(byReference), CropMode.Center).Error);
        Assert.NotNull(LabelRequestReader.Read(ContractSerializer.ToBinary(byReference with { Items = [new LabelItem("b/1.jpg")] }), CropMode.Center).Error);
        Assert.NotNull(LabelRequestReader.Read(ContractSerializer.ToBinary(byReference with { Chunk = LabelRequest.IngestChunkPrefix + "x" }), CropMode.Center).Error);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await services.DisposeAsync();
        await client.GetQueueClient(queueName).DeleteIfExistsAsync();
        Directory.Delete(root, recursive: true);
    }

    /// <summary>The label queue under a name of this test's own, so parallel tests on the same Azurite do not meet.</summary>
    private sealed class RenamedQueues(IWorkQueueFactory inner, string labelQueue) : IWorkQueueFactory
    {
        public IWorkQueue GetQueue(string name) => inner.GetQueue(name == PipelineNames.LabelQueue ? labelQueue : name);
    }
}
