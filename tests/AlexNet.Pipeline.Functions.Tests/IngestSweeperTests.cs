using System.Text.Json;
using AlexNet.Imaging;
using AlexNet.Pipeline.Functions.Tests.Fixtures;
using AlexNet.Pipeline.Ingest;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Storage;
using AlexNet.Testing;
using Azure.Storage;
using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using SkiaSharp;

namespace AlexNet.Pipeline.Functions.Tests;

public sealed class IngestSweeperTests : IAsyncLifetime
{
    private readonly PipelineServices pipeline = new(new Dictionary<string, string?> { ["Ingest:SweepMaxIngests"] = "2" });
    private readonly string batch = Azurite.Unique("sweep");

    [Fact]
    public async Task TheSweepIngestsUploadsTheTriggerMissedAndSkipsLabeledOnes()
    {
        var labeled = await pipeline.UploadAsync($"{batch}/labeled.png", SampleImages.Solid(ImageFormat.Png, 8, 8, SKColors.Red));
        var missed = await pipeline.UploadAsync($"{batch}/missed.png", SampleImages.Solid(ImageFormat.Png, 8, 8, SKColors.Green));
        await WriteLabelRecordAsync("labeled.png", labeled);

        SweepResult result = await pipeline.Get<IngestSweeper>().SweepAsync();

        Assert.Equal(new SweepResult(Seen: 2, Recorded: 1, Queued: 1, Rejected: 0, AlreadyRejected: 0, Vanished: 0, Incomplete: false), result);
        var (_, request) = Assert.Single(await pipeline.DrainLabelQueueAsync());
        Assert.Equal([missed.Name], request.Items!.Select(i => i.Path));
        // The sweep found no record of any version: the message says so, and the worker skips its two record look-ups.
        Assert.Equal([(missed.ETag, (bool?)false)], request.Items!.Select(i => (i.ETag, i.HasRecord)));
    }

    [Fact]
    public async Task AnUploadReplacedSinceItWasLabeledIsIngestedAgain()
    {
        var first = await pipeline.UploadAsync($"{batch}/redone.png", SampleImages.Solid(ImageFormat.Png, 8, 8, SKColors.Red));
        await WriteLabelRecordAsync("redone.png", first);
        var second = await pipeline.UploadAsync($"{batch}/redone.png", SampleImages.Solid(ImageFormat.Png, 8, 8, SKColors.Blue));

        SweepResult result = await pipeline.Get<IngestSweeper>().SweepAsync();

        Assert.Equal(1, result.Queued);
        var (_, request) = Assert.Single(await pipeline.DrainLabelQueueAsync());
        Assert.Equal([second.Name], request.Items!.Select(i => i.Path));
        // A record of the earlier version exists: the worker must find it (to replace it), so the message does not say "none".
        Assert.Null(Assert.Single(request.Items!).HasRecord);
    }

    [Fact]
    public async Task ARejectedUploadIsNotIngestedAgainBySweeps()
    {
        await pipeline.UploadAsync($"{batch}/note.jpg", "not a picture"u8.ToArray());
        var sweeper = pipeline.Get<IngestSweeper>();

        SweepResult first = await sweeper.SweepAsync();
        SweepResult second = await sweeper.SweepAsync();

        Assert.Equal(1, first.Rejected);
        Assert.Equal(new SweepResult(1, 1, 0, 0, 0, 0, false), second);
        Assert.Empty(await pipeline.DrainLabelQueueAsync());
    }

    [Fact]
    public async Task ASweepStopsAtItsBoundAndTheNextGoesOnWithTheRest()
    {
        string[] names = ["a.png", "b.png", "c.png"];
        foreach (string name in names)
            await pipeline.UploadAsync($"{batch}/{name}", SampleImages.Solid(ImageFormat.Png, 8, 8, SKColors.Gray));
        var sweeper = pipeline.Get<IngestSweeper>();

        SweepResult first = await sweeper.SweepAsync();
        var firstSent = await pipeline.DrainLabelQueueAsync();
        SweepResult second = await sweeper.SweepAsync();
        var secondSent = await pipeline.DrainLabelQueueAsync();

        // Nothing was labeled in between: the second sweep sends c, and leaves a and b, queued by the first within
        // Ingest:RequeueAfter, waiting (a Storage Queue has no duplicate detection to drop them).
        Assert.True(first.Incomplete);
        Assert.Equal(2, first.Queued);
        Assert.Equal([$"{batch}/a.png", $"{batch}/b.png"], firstSent.SelectMany(m => m.Request.Items!.Select(i => i.Path)).Order());
        Assert.Equal((1, 2, false), (second.Queued, second.Waiting, second.Incomplete));
        Assert.Equal([$"{batch}/c.png"], secondSent.SelectMany(m => m.Request.Items!.Select(i => i.Path)));
    }

    [Fact]
    public async Task UploadsNamedSummaryAndSummaryImageKeepTheirOwnRecordsSoTheSweepLeavesBothAlone()
    {
        var summary = await pipeline.UploadAsync($"{batch}/summary", SampleImages.Solid(ImageFormat.Png, 8, 8, SKColors.Red));
        var image = await pipeline.UploadAsync($"{batch}/summary.image", SampleImages.Solid(ImageFormat.Png, 8, 8, SKColors.Blue));
        await WriteLabelRecordAsync("summary", summary);
        await WriteLabelRecordAsync("summary.image", image);

        SweepResult result = await pipeline.Get<IngestSweeper>().SweepAsync();

        Assert.Equal(new SweepResult(Seen: 2, Recorded: 2, Queued: 0, Rejected: 0, AlreadyRejected: 0, Vanished: 0, Incomplete: false), result);
        Assert.Empty(await pipeline.DrainLabelQueueAsync());
    }

    [Fact]
    public async Task AnUploadTheSdkCannotAddressIsRejectedOnceInsteadOfVanishingOnEverySweep()
    {
        // A client that writes the URL path as given (as the JavaScript SDK or a raw PUT does) can create "/lead.png".
        var container = pipeline.Services.GetRequiredService<BlobServiceClient>().GetBlobContainerClient(pipeline.UploadContainer);
        await container.CreateIfNotExistsAsync();
        var leading = new BlobClient(new Uri($"{container.Uri}//lead.png"), new StorageSharedKeyCredential(Azurite.AccountName, Azurite.AccountKey));
        await leading.UploadAsync(BinaryData.FromBytes(SampleImages.Solid(ImageFormat.Png, 8, 8, SKColors.Red)));
        var listed = new List<string>();
        await foreach (BlobEntry entry in pipeline.Store.ListAsync(pipeline.UploadContainer))
            listed.Add(entry.Name);
        Assert.Equal(["/lead.png"], listed);
        var sweeper = pipeline.Get<IngestSweeper>();

        SweepResult first = await sweeper.SweepAsync();
        SweepResult second = await sweeper.SweepAsync();

        Assert.Equal(new SweepResult(Seen: 1, Recorded: 0, Queued: 0, Rejected: 1, AlreadyRejected: 0, Vanished: 0, Incomplete: false), first);
        Assert.Equal(new SweepResult(Seen: 1, Recorded: 1, Queued: 0, Rejected: 0, AlreadyRejected: 0, Vanished: 0, Incomplete: false), second);
        var records = new List<RejectedRecord>();
        await foreach (BlobEntry entry in pipeline.Store.ListAsync(LabelPaths.RejectedContainer, IncomingBlob.UnbatchedBatch + "/"))
        {
            BlobDownload download = (await pipeline.Store.DownloadAsync(LabelPaths.RejectedContainer, entry.Name))!;
            records.Add(JsonSerializer.Deserialize(download.Content.ToMemory().Span, LabelJsonContext.Default.RejectedRecord)!);
        }
        RejectedRecord record = Assert.Single(records, r => r.Image.Container == pipeline.UploadContainer);
        Assert.Equal("/lead.png", record.Image.Path);
        Assert.Equal(UploadIngestor.InvalidLocationCode, record.Code);
        Assert.Contains("/lead.png", record.Reason, StringComparison.Ordinal);
        Assert.Empty(await pipeline.DrainLabelQueueAsync());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => pipeline.DisposeAsync().AsTask();

    /// <summary>What the worker writes once it has labeled this version of the upload.</summary>
    private Task WriteLabelRecordAsync(string path, BlobEntry upload) => pipeline.WriteLabelRecordAsync(batch, path, upload);
}
