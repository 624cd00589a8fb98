using System.Diagnostics;
using System.Runtime.CompilerServices;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Orchestrations;
using AlexNet.Pipeline.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace AlexNet.Pipeline.Tests.Orchestrations;

/// <summary>
/// ListAndChunk called the way a Functions activity trigger calls it (class from DI, <see cref="ActivityInvocationContext"/>),
/// on the local-folder store: at-least-once runs must leave consistent chunk requests and done markers.
/// </summary>
public sealed class ListAndChunkActivityTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("alexnet-chunks-").FullName;
    private readonly ServiceProvider services;
    private readonly IBlobStore store;

    public ListAndChunkActivityTests()
    {
        store = new LocalFolderBlobStore(root);
        services = new ServiceCollection()
            .AddLogging()
            .AddSingleton(store)
            .AddSingleton<IWorkQueueFactory>(new InProcessWorkQueueFactory(new WorkQueueOptions(), TimeProvider.System))
            .AddPipelineOrchestrations()
            .BuildServiceProvider();
    }

    [Fact]
    public async Task RunningAgainKeepsDoneMarkersOfUnchangedChunksAndDropsThoseWhosePathsMoved()
    {
        for (int i = 0; i < 5; i++)
            await store.UploadAsync("incoming", $"b/{i}.jpg", BinaryData.FromBytes([1]));
        var input = new ListAndChunkInput("b", "incoming", "b/", 2);

        ChunkPlan plan = await RunAsync(input);
        Assert.Equal(new ChunkPlan(5, 2, 3), plan);
        ChunkRequestFile second = await RequestAsync("c00001");
        Assert.Equal(["b/2.jpg", "b/3.jpg"], second.Items.Select(i => i.Path));
        // The listing's ETags travel with the paths, so the worker need not look each image up again.
        Assert.Equal([(await store.GetEntryAsync("incoming", "b/2.jpg"))!.ETag, (await store.GetEntryAsync("incoming", "b/3.jpg"))!.ETag], second.Items.Select(i => i.ETag));
        Assert.Equal(1, plan.ChunkImages(2));

        await MarkDoneAsync("c00000");
        await MarkDoneAsync("c00002");
        Assert.Equal(plan, await RunAsync(input));
        Assert.NotNull(await store.GetEntryAsync("runs", PipelineNames.ChunkDoneBlob("b", "c00000")));

        // An image uploaded again is a new version: its chunk's request changes and the chunk is labeled again.
        await store.UploadAsync("incoming", "b/4.jpg", BinaryData.FromBytes([2]));
        Assert.Equal(plan, await RunAsync(input));
        Assert.Null(await store.GetEntryAsync("runs", PipelineNames.ChunkDoneBlob("b", "c00002")));
        await MarkDoneAsync("c00002");

        // A new image sorts into the middle: chunk 0 keeps its paths, chunk 2 now holds others.
        await store.UploadAsync("incoming", "b/1a.jpg", BinaryData.FromBytes([1]));
        Assert.Equal(new ChunkPlan(6, 2, 3), await RunAsync(input));
        Assert.NotNull(await store.GetEntryAsync("runs", PipelineNames.ChunkDoneBlob("b", "c00000")));
        Assert.Null(await store.GetEntryAsync("runs", PipelineNames.ChunkDoneBlob("b", "c00002")));
    }

    [Fact]
    public async Task EachPathSaysWhetherItHadALabelRecordAndARecordWrittenSinceChangesNoChunk()
    {
        for (int i = 0; i < 4; i++)
            await store.UploadAsync("incoming", $"b/{i}.jpg", BinaryData.FromBytes([1]));
        await store.UploadAsync("labels", "b/1.jpg.json", BinaryData.FromString("{}"));
        var input = new ListAndChunkInput("b", "incoming", "b/", 2);

        await RunAsync(input);
        Assert.Equal(new bool?[] { false, true }, (await RequestAsync("c00000")).Items.Select(i => i.HasRecord));
        Assert.Equal(new bool?[] { false, false }, (await RequestAsync("c00001")).Items.Select(i => i.HasRecord));

        // Records written by the worker since: the chunk holds the same images, so its request and marker stay.
        await MarkDoneAsync("c00001");
        await store.UploadAsync("labels", "b/2.jpg.json", BinaryData.FromString("{}"));
        await store.UploadAsync("labels", "b/3.jpg.json", BinaryData.FromString("{}"));
        await RunAsync(input);
        Assert.Equal(new bool?[] { false, false }, (await RequestAsync("c00001")).Items.Select(i => i.HasRecord));
        Assert.NotNull(await store.GetEntryAsync("runs", PipelineNames.ChunkDoneBlob("b", "c00001")));
    }

    [Fact]
    public async Task ChunkRequestsAreWrittenWhileTheListingIsStillGoing()
    {
        for (int i = 0; i < 40; i++)
            await store.UploadAsync("incoming", $"b/{i:D2}.jpg", BinaryData.FromBytes([1]));
        var watched = new ListingThatWaitsForAChunk(store);
        var activity = new ListAndChunkActivity(watched, NullLogger<ListAndChunkActivity>.Instance);

        ChunkPlan plan = await activity.RunAsync(new ActivityInvocationContext(OrchestrationNames.ListAndChunk, "b"), new ListAndChunkInput("b", "incoming", "b/", 2));

        Assert.Equal(new ChunkPlan(40, 2, 20), plan);
        // Its memory does not follow the batch: the first chunk's request was written before the listing ended (an
        // activity that held every listed name before writing would have left the listing waiting in vain).
        Assert.True(watched.ChunkWrittenBeforeTheListingEnded, "no chunk request was written while the listing was under way");
        Assert.Equal(["b/38.jpg", "b/39.jpg"], (await RequestAsync("c00019")).Items.Select(i => i.Path));
    }

    public void Dispose()
    {
        services.Dispose();
        Directory.Delete(root, recursive: true);
    }

    private Task<ChunkPlan> RunAsync(ListAndChunkInput input) =>
        services.GetRequiredService<ListAndChunkActivity>().RunAsync(new ActivityInvocationContext(OrchestrationNames.ListAndChunk, "b"), input);

    private async Task<ChunkRequestFile> RequestAsync(string chunk) =>
        ChunkRequestFile.Parse((await store.DownloadAsync("runs", PipelineNames.ChunkRequestBlob("b", chunk)))!.Content)!;

    private Task MarkDoneAsync(string chunk) =>
        store.UploadAsync("runs", PipelineNames.ChunkDoneBlob("b", chunk),
            ContractSerializer.ToBinary(new ChunkDone("b", chunk, 2, 2, 0, 0, 0, 1, "m", "w", DateTimeOffset.UnixEpoch)));

    /// <summary>A store whose listing of <c>incoming</c>, once it has given every name, waits up to 10 s for the first chunk's request before it ends.</summary>
    private sealed class ListingThatWaitsForAChunk(IBlobStore inner) : IBlobStore
    {
        public bool ChunkWrittenBeforeTheListingEnded { get; private set; }

        public async IAsyncEnumerable<BlobEntry> ListAsync(string container, string? prefix, bool includeMetadata, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (BlobEntry entry in inner.ListAsync(container, prefix, includeMetadata, cancellationToken))
                yield return entry;
            if (container != "incoming")
                yield break;
            var waited = Stopwatch.StartNew();
            while (waited.Elapsed < TimeSpan.FromSeconds(10) && !ChunkWrittenBeforeTheListingEnded)
            {
                ChunkWrittenBeforeTheListingEnded = await inner.GetEntryAsync("runs", PipelineNames.ChunkRequestBlob("b", "c00000"), cancellationToken) is not null;
                await Task.Delay(20, cancellationToken);
            }
        }

        public Task<BlobEntry?> GetEntryAsync(string container, string name, CancellationToken cancellationToken = default) => inner.GetEntryAsync(container, name, cancellationToken);

        public Task<BlobDownload?> DownloadAsync(string container, string name, CancellationToken cancellationToken = default) => inner.DownloadAsync(container, name, cancellationToken);

        public Task<CreateOutcome> CreateIfAbsentAsync(string container, string name, BinaryData content, string? contentType, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken = default) =>
            inner.CreateIfAbsentAsync(container, name, content, contentType, metadata, cancellationToken);

        public Task<string> UploadAsync(string container, string name, BinaryData content, string? contentType = null, string? ifMatchETag = null, CancellationToken cancellationToken = default) =>
            inner.UploadAsync(container, name, content, contentType, ifMatchETag, cancellationToken);

        public Task<bool> DeleteAsync(string container, string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(container, name, cancellationToken);

        public Task SetTagsAsync(string container, string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default) =>
            inner.SetTagsAsync(container, name, tags, cancellationToken);

        public IAsyncEnumerable<BlobEntry> FindByTagsAsync(string tagQuery, CancellationToken cancellationToken = default) => inner.FindByTagsAsync(tagQuery, cancellationToken);
    }
}
