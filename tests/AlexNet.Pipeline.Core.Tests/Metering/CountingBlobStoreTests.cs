using System.Runtime.CompilerServices;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Metering;
using AlexNet.Pipeline.Storage;
using AlexNet.Pipeline.Tests.Storage;

namespace AlexNet.Pipeline.Tests.Metering;

/// <summary>The counting store passes the blob store contract through unchanged.</summary>
public sealed class CountingBlobStoreContractTests : BlobStoreContract
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "alexnet-counting-tests", Guid.NewGuid().ToString("N"));
    private readonly CountingBlobStore store;

    public CountingBlobStoreContractTests()
    {
        store = new CountingBlobStore(new LocalFolderBlobStore(root), new RequestCounter(), perBlob: true);
    }

    protected override IBlobStore Store => store;

    public override Task DisposeAsync()
    {
        if (Directory.Exists(root))
            Directory.Delete(root, recursive: true);
        return Task.CompletedTask;
    }
}

public sealed class RequestCountingTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "alexnet-counting-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task EveryCallCountsOnceByKindFromManyThreadsAndOnlyWritesThatTookEffectCountPerBlob()
    {
        var counter = new RequestCounter();
        var store = new CountingBlobStore(new LocalFolderBlobStore(root), counter, perBlob: true);

        await Parallel.ForEachAsync(Enumerable.Range(0, 200), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            await store.CreateIfAbsentAsync("counted", $"b{i % 50}", BinaryData.FromString("x"), cancellationToken: ct);
            await store.DownloadAsync("counted", $"b{i % 50}", ct);
            await store.GetEntryAsync("counted", $"b{i % 50}", ct);
        });
        await store.DeleteAsync("counted", "b0");
        await store.SetTagsAsync("counted", "b1", new Dictionary<string, string> { ["k"] = "v" });

        RequestCounts counts = counter.Snapshot();
        Assert.Equal((200d, 200d, 200d, 1d, 1d), (counts.Write, counts.Read, counts.Head, counts.Delete, counts.Tag));
        Assert.Equal(602d, counts.Blob);
        Assert.Equal(1, store.WritesOf("counted", "b7")); // four creates, one took effect
        Assert.Equal(4, store.ReadsOf("counted", "b7"));
        Assert.Equal(200, store.ReadsIn("counted"));
        Assert.Equal(2.0, (counts - RequestCounts.Zero).Per(100).Write);
    }

    [Fact]
    public async Task AListingCountsOneRequestPerPageOfFiveThousandNames()
    {
        var counter = new RequestCounter();
        foreach (int names in (int[])[0, 1, 5000, 5001, 12000])
        {
            RequestCounts before = counter.Snapshot();
            await foreach (BlobEntry _ in new CountingBlobStore(new Listing(names), counter).ListAsync("counted"))
            {
            }
            Assert.Equal(names <= 5000 ? 1 : names <= 10000 ? 2 : 3, (counter.Snapshot() - before).List);
        }
    }

    [Fact]
    public async Task QueueCallsCountBySendReceiveAndSettle()
    {
        var counter = new RequestCounter();
        var queues = new CountingWorkQueueFactory(new InProcessWorkQueueFactory(new WorkQueueOptions(), TimeProvider.System), counter);
        IWorkQueue queue = queues.GetQueue("q");

        await queue.SendAsync([new OutgoingMessage("a", BinaryData.FromString("1")), new OutgoingMessage("b", BinaryData.FromString("2"))]);
        IReadOnlyList<ReceivedMessage> received = await queue.ReceiveAsync(10, TimeSpan.Zero);
        await queue.RenewLockAsync(received[0]);
        await queue.CompleteAsync(received[0]);
        await queue.AbandonAsync(received[1]);

        RequestCounts counts = counter.Snapshot();
        Assert.Equal((2d, 1d, 1d, 2d, 6d), (counts.Send, counts.Receive, counts.RenewLock, counts.Settle, counts.Queue));
    }

    public void Dispose()
    {
        if (Directory.Exists(root))
            Directory.Delete(root, recursive: true);
    }

    /// <summary>A store that only lists: <paramref name="names"/> generated entries.</summary>
    private sealed class Listing(int names) : IBlobStore
    {
        public async IAsyncEnumerable<BlobEntry> ListAsync(string container, string? prefix, bool includeMetadata, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            for (int i = 0; i < names; i++)
                yield return new BlobEntry(container, $"n{i:D6}", 1, "e", DateTimeOffset.UnixEpoch);
            await Task.CompletedTask;
        }

        public Task<BlobEntry?> GetEntryAsync(string container, string name, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<BlobDownload?> DownloadAsync(string container, string name, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<CreateOutcome> CreateIfAbsentAsync(string container, string name, BinaryData content, string? contentType, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public Task<string> UploadAsync(string container, string name, BinaryData content, string? contentType = null, string? ifMatchETag = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public Task<bool> DeleteAsync(string container, string name, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task SetTagsAsync(string container, string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public IAsyncEnumerable<BlobEntry> FindByTagsAsync(string tagQuery, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}

/// <summary>
/// Metadata through the counting store over Azurite: the local pipeline wraps its store in one, and a review's training
/// copy keeps its provenance only if the metadata reaches the account.
/// </summary>
public sealed class CountingBlobStoreMetadataTests(Fixtures.AzuriteFixture azurite) : IClassFixture<Fixtures.AzuriteFixture>, IAsyncLifetime
{
    private readonly Azure.Storage.Blobs.BlobServiceClient client = new(Fixtures.AzuriteFixture.ConnectionString);
    private readonly string container = "counting-metadata-" + Guid.NewGuid().ToString("N")[..12];

    public Fixtures.AzuriteFixture Azurite { get; } = azurite;

    [Fact]
    public async Task MetadataIsPassedOnAndCountedAsAWriteAndAHead()
    {
        var counter = new RequestCounter();
        var store = new CountingBlobStore(new AzureBlobStore(client, Microsoft.Extensions.Logging.Abstractions.NullLogger<AzureBlobStore>.Instance), counter);
        await store.UploadAsync(container, "copy.jpg", BinaryData.FromString("pixels"));

        Assert.True(await store.SetMetadataAsync(container, "copy.jpg", new Dictionary<string, string> { ["batch"] = "b1", ["decision"] = "T-shirt%2Ftop" }));
        IReadOnlyDictionary<string, string>? metadata = await store.GetMetadataAsync(container, "copy.jpg");

        Assert.Equal(("b1", "T-shirt%2Ftop"), (metadata!["batch"], metadata["decision"]));
        Assert.Null(await store.GetMetadataAsync(container, "missing.jpg"));
        RequestCounts counts = counter.Snapshot();
        Assert.Equal((2d, 2d), (counts.Write, counts.Head));
    }

    [Fact]
    public async Task ACreateWithMetadataIsOneWriteAndAListingWithMetadataTheSamePages()
    {
        var counter = new RequestCounter();
        var store = new CountingBlobStore(new AzureBlobStore(client, Microsoft.Extensions.Logging.Abstractions.NullLogger<AzureBlobStore>.Instance), counter);

        Assert.Equal(CreateOutcome.Created, await store.CreateIfAbsentAsync(container, "b/record.json", BinaryData.FromString("{}"), "application/json", new Dictionary<string, string> { ["imageetag"] = "\"0x1\"" }));
        RequestCounts created = counter.Snapshot();
        BlobEntry listed = Assert.Single(await store.ListAsync(container, "b/", includeMetadata: true).ToListAsync());

        Assert.Equal((1d, 1d), (created.Write, created.Blob));
        Assert.Equal("\"0x1\"", listed.Metadata!["imageetag"]);
        Assert.Equal((1d, 2d), ((counter.Snapshot() - created).List, counter.Snapshot().Blob));
        // The metadata is the account's, as any other client reads it.
        var properties = await client.GetBlobContainerClient(container).GetBlobClient("b/record.json").GetPropertiesAsync();
        Assert.Equal("\"0x1\"", properties.Value.Metadata["imageetag"]);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await client.GetBlobContainerClient(container).DeleteIfExistsAsync();
}
