using System.Runtime.CompilerServices;
using System.Text.Json;
using AlexNet.Imaging;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Functions.Tests.Fixtures;
using AlexNet.Pipeline.Ingest;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Metering;
using AlexNet.Pipeline.Storage;
using AlexNet.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SkiaSharp;

namespace AlexNet.Pipeline.Functions.Tests;

/// <summary>
/// The sweep's cost follows what is new: an idle sweep over handled uploads makes a fixed few requests however many
/// there are, and nothing uploaded is missed, whether it lands during a sweep or in a folder that had gone quiet.
/// </summary>
public sealed class IncrementalSweepTests : IAsyncLifetime
{
    private static readonly TimeSpan Margin = TimeSpan.FromMinutes(5);

    private readonly PipelineServices pipeline = new();
    private readonly string batch = Azurite.Unique("inc");
    private readonly FakeTimeProvider clock = new(DateTimeOffset.UtcNow);
    private readonly RequestCounter counter = new();

    [Theory]
    [InlineData(3)]
    [InlineData(40)]
    public async Task AnIdleSweepMakesTheSameFewRequestsHoweverManyHandledUploadsThereAre(int uploads)
    {
        for (int i = 0; i < uploads; i++)
            await UploadLabeledAsync($"img-{i:D3}.png");
        var store = new CountingBlobStore(pipeline.Store, counter);
        using var sweeper = NewSweeper(store, reconcileInterval: TimeSpan.FromHours(1));

        SweepResult first = await sweeper.SweepAsync();
        Assert.True(sweeper.LastSweepReconciled);
        Assert.Equal(new SweepResult(uploads, uploads, 0, 0, 0, 0, false), first);

        // Past the margin, the watermark covers every upload; from then on an idle sweep only lists.
        clock.Advance(Margin + TimeSpan.FromMinutes(1));
        await sweeper.SweepAsync();
        RequestCounts active = await CountOneSweepAsync(sweeper, uploads);

        // The batch stays listed on every sweep while active: the state's look-up, the first level, the batch folder.
        Assert.Equal(1, active.Head);
        Assert.Equal(2, active.List);
        Assert.Equal(3, active.Total);

        // Once the batch is quiet, only the state's look-up and the first level remain.
        clock.Advance(new IngestOptions().ActiveFolderWindow);
        RequestCounts quiet = await CountOneSweepAsync(sweeper, uploads: 0);
        Assert.False(sweeper.LastSweepReconciled);
        Assert.Equal(1, quiet.Head);
        Assert.Equal(1, quiet.List);
        Assert.Equal(2, quiet.Total);
        Assert.Empty(await pipeline.DrainLabelQueueAsync());
    }

    [Fact]
    public async Task AnUploadLandingDuringASweepIsPickedUpByTheNext()
    {
        await UploadLabeledAsync("b.png");
        var store = new UploadDuringListing(pipeline.Store, pipeline.UploadContainer, $"{batch}/a-late.png", SampleImages.Solid(ImageFormat.Png, 8, 8, SKColors.Blue));
        using var sweeper = NewSweeper(store);
        Assert.Equal(new SweepResult(1, 1, 0, 0, 0, 0, false), await sweeper.SweepAsync());

        // During the next sweep's listing an upload lands before the name the listing has passed.
        store.Armed = true;
        SweepResult during = await sweeper.SweepAsync();
        Assert.False(store.Armed, "the upload was not made during the listing");
        Assert.Equal(0, during.Queued);

        SweepResult next = await sweeper.SweepAsync();
        Assert.False(next.Incomplete);
        Assert.Equal(1, next.Queued);
        var (_, request) = Assert.Single(await pipeline.DrainLabelQueueAsync());
        Assert.Equal([$"{batch}/a-late.png"], request.Items!.Select(i => i.Path));
    }

    [Fact]
    public async Task AnUploadIntoAQuietFolderIsFoundByTheNextReconciliation()
    {
        await UploadLabeledAsync("first.png");
        var options = new IngestOptions { ActiveFolderWindow = TimeSpan.Zero, ReconcileInterval = TimeSpan.FromMinutes(10) };
        using var sweeper = NewSweeper(pipeline.Store, options);
        await sweeper.SweepAsync();
        var late = await pipeline.UploadAsync($"{batch}/later.png", SampleImages.Solid(ImageFormat.Png, 8, 8, SKColors.Green));

        SweepResult between = await sweeper.SweepAsync();
        clock.Advance(options.ReconcileInterval);
        SweepResult reconciliation = await sweeper.SweepAsync();

        Assert.Equal(0, between.Seen);
        Assert.True(sweeper.LastSweepReconciled);
        Assert.Equal(1, reconciliation.Queued);
        var (_, request) = Assert.Single(await pipeline.DrainLabelQueueAsync());
        Assert.Equal([late.Name], request.Items!.Select(i => i.Path));
    }

    [Fact]
    public async Task ARestartedSweeperGoesOnFromTheStateInStorageWithoutAReconciliation()
    {
        for (int i = 0; i < 5; i++)
            await UploadLabeledAsync($"r-{i}.png");
        using (var before = NewSweeper(pipeline.Store))
        {
            await before.SweepAsync();
            clock.Advance(Margin + TimeSpan.FromMinutes(1));
            await before.SweepAsync();
        }

        var store = new CountingBlobStore(pipeline.Store, counter);
        using var after = NewSweeper(store);
        RequestCounts requests = await CountOneSweepAsync(after, uploads: 5);

        Assert.False(after.LastSweepReconciled);
        Assert.Equal(1, requests.Read); // the state itself, read once by the new instance; no record is read
        Assert.Empty(await pipeline.DrainLabelQueueAsync());
        BlobDownload state = (await pipeline.Store.DownloadAsync(PipelineNames.RunsContainer, after.StateBlob))!;
        using var json = JsonDocument.Parse(state.Content.ToMemory());
        Assert.True(json.RootElement.GetProperty("folders").TryGetProperty(batch + "/", out _), $"no watermark for {batch}/ in {state.Content}");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => pipeline.DisposeAsync().AsTask();

    private IngestSweeper NewSweeper(IBlobStore store, IngestOptions? options = null, TimeSpan? reconcileInterval = null)
    {
        options ??= new IngestOptions();
        options.Container = pipeline.UploadContainer;
        if (reconcileInterval is { } interval)
            options.ReconcileInterval = interval;
        return new IngestSweeper(store, pipeline.Get<UploadIngestor>(), Options.Create(options), clock, NullLogger<IngestSweeper>.Instance);
    }

    private async Task<RequestCounts> CountOneSweepAsync(IngestSweeper sweeper, int uploads)
    {
        RequestCounts before = counter.Snapshot();
        SweepResult result = await sweeper.SweepAsync();
        Assert.Equal(0, result.Queued);
        Assert.Equal(result.Seen, result.Recorded);
        Assert.Equal(uploads, result.Seen);
        return counter.Snapshot() - before;
    }

    /// <summary>An upload with the label record the worker writes once it has labeled it.</summary>
    private async Task UploadLabeledAsync(string path)
    {
        BlobEntry upload = await pipeline.UploadAsync($"{batch}/{path}", SampleImages.Solid(ImageFormat.Png, 8, 8, SKColors.Red));
        await pipeline.WriteLabelRecordAsync(batch, path, upload);
    }

    /// <summary>Uploads one blob, once armed, while a listing of the upload container is under way (after its first entry).</summary>
    private sealed class UploadDuringListing(IBlobStore inner, string container, string name, byte[] content) : IBlobStore
    {
        public bool Armed { get; set; }

        public async IAsyncEnumerable<BlobEntry> ListAsync(string listed, string? prefix, bool includeMetadata, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (BlobEntry entry in inner.ListAsync(listed, prefix, includeMetadata, cancellationToken))
            {
                yield return entry;
                if (Armed && listed == container)
                {
                    Armed = false;
                    await inner.UploadAsync(container, name, BinaryData.FromBytes(content), cancellationToken: cancellationToken);
                }
            }
        }

        public IAsyncEnumerable<BlobTopLevelItem> ListTopLevelAsync(string listed, CancellationToken cancellationToken = default) =>
            inner.ListTopLevelAsync(listed, cancellationToken);

        public Task<BlobEntry?> GetEntryAsync(string c, string n, CancellationToken cancellationToken = default) => inner.GetEntryAsync(c, n, cancellationToken);

        public Task<BlobDownload?> DownloadAsync(string c, string n, CancellationToken cancellationToken = default) => inner.DownloadAsync(c, n, cancellationToken);

        public Task<CreateOutcome> CreateIfAbsentAsync(string c, string n, BinaryData data, string? contentType, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken = default) =>
            inner.CreateIfAbsentAsync(c, n, data, contentType, metadata, cancellationToken);

        public Task<string> UploadAsync(string c, string n, BinaryData data, string? contentType = null, string? ifMatchETag = null, CancellationToken cancellationToken = default) =>
            inner.UploadAsync(c, n, data, contentType, ifMatchETag, cancellationToken);

        public Task<bool> DeleteAsync(string c, string n, CancellationToken cancellationToken = default) => inner.DeleteAsync(c, n, cancellationToken);

        public Task SetTagsAsync(string c, string n, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default) =>
            inner.SetTagsAsync(c, n, tags, cancellationToken);

        public IAsyncEnumerable<BlobEntry> FindByTagsAsync(string tagQuery, CancellationToken cancellationToken = default) => inner.FindByTagsAsync(tagQuery, cancellationToken);
    }
}
