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
using SkiaSharp;

namespace AlexNet.Pipeline.Functions.Tests;

/// <summary>
/// A record created with the upload version it covers in its metadata is judged from the sweep's listing of records:
/// a new image costs the sweep no read of its record, even when the record was written within
/// <c>Ingest:RecordSettleTime</c> of the upload, as nearly every record is.
/// </summary>
public sealed class RecordMetadataSweepTests : IAsyncLifetime
{
    private readonly PipelineServices pipeline = new();
    private readonly string batch = Azurite.Unique("meta");

    [Fact]
    public async Task RecordsCarryingTheirUploadsETagAreNotReadWhileOnesWithoutItStillAre()
    {
        // New images, each labeled right after its upload, as the worker writes its records.
        var labeled = new List<string>();
        for (int i = 0; i < 6; i++)
        {
            BlobEntry upload = await UploadAsync($"new-{i}.png", SKColors.Red);
            await CreateLabelRecordAsync($"new-{i}.png", upload.ETag);
            labeled.Add(LabelPaths.Record(batch, $"new-{i}.png"));
        }

        // A broken upload with its rejected record, written by the writer the ingest check and the worker use.
        BlobEntry broken = await pipeline.UploadAsync($"{batch}/broken.jpg", "not a picture"u8.ToArray());
        await RejectedRecords.WriteAsync(pipeline.Store, LabelPaths.Record(batch, "broken.jpg"), new RejectedRecord(
            batch, new ImageIdentity(broken.Container, broken.Name, broken.ETag, string.Empty, broken.Size), "Undecodable", "not an image", DateTimeOffset.UtcNow));

        // Uploaded again, then a late label record of the first version: newer than the upload, but of another version.
        BlobEntry first = await UploadAsync("redone.png", SKColors.Red);
        BlobEntry second = await UploadAsync("redone.png", SKColors.Blue);
        Assert.NotEqual(first.ETag, second.ETag);
        await CreateLabelRecordAsync("redone.png", first.ETag);

        // A record written before records carried the ETag (or by a writer that does not set it): read, as before.
        BlobEntry legacy = await UploadAsync("legacy.png", SKColors.Green);
        await pipeline.WriteLabelRecordAsync(batch, "legacy.png", legacy);
        Assert.Empty((await pipeline.Store.GetMetadataAsync(LabelPaths.LabelsContainer, LabelPaths.Record(batch, "legacy.png")))!);

        var store = new CountingBlobStore(pipeline.Store, new RequestCounter(), perBlob: true);
        var options = new IngestOptions { Container = pipeline.UploadContainer };
        Assert.Equal(TimeSpan.FromMinutes(15), options.RecordSettleTime); // every record here was written well within it
        using var sweeper = new IngestSweeper(store, pipeline.Get<UploadIngestor>(), Options.Create(options), TimeProvider.System, NullLogger<IngestSweeper>.Instance);

        SweepResult result = await sweeper.SweepAsync();

        Assert.Equal(new SweepResult(Seen: 9, Recorded: 8, Queued: 1, Rejected: 0, AlreadyRejected: 0, Vanished: 0, Incomplete: false), result);
        Assert.All(labeled, name => Assert.Equal(0, store.ReadsOf(LabelPaths.LabelsContainer, name)));
        Assert.Equal(0, store.ReadsIn(LabelPaths.RejectedContainer));
        Assert.Equal(0, store.ReadsOf(LabelPaths.LabelsContainer, LabelPaths.Record(batch, "redone.png")));
        Assert.Equal(1, store.ReadsOf(LabelPaths.LabelsContainer, LabelPaths.Record(batch, "legacy.png")));
        Assert.Equal(1, store.ReadsIn(LabelPaths.LabelsContainer));

        // The re-uploaded image goes to the worker as its new version, with a record of another version to replace.
        var (_, request) = Assert.Single(await pipeline.DrainLabelQueueAsync());
        LabelItem item = Assert.Single(request.Items!);
        Assert.Equal((second.Name, second.ETag, (bool?)null), (item.Path, item.ETag, item.HasRecord));
    }

    [Fact]
    public async Task TheRejectedRecordsWriterCreatesItsRecordWithTheUploadsETagInItsMetadata()
    {
        BlobEntry upload = await pipeline.UploadAsync($"{batch}/note.jpg", "not a picture"u8.ToArray());
        string name = LabelPaths.Record(batch, "note.jpg");

        var (outcome, _) = await RejectedRecords.WriteAsync(pipeline.Store, name, new RejectedRecord(
            batch, new ImageIdentity(upload.Container, upload.Name, upload.ETag, string.Empty, upload.Size), "Undecodable", "not an image", DateTimeOffset.UtcNow));

        Assert.Equal(RejectedWriteOutcome.Created, outcome);
        BlobEntry listed = Assert.Single(await pipeline.Store.ListAsync(LabelPaths.RejectedContainer, batch + "/", includeMetadata: true).ToListAsync());
        Assert.Equal(upload.ETag, listed.Metadata![LabelPaths.ImageETagMetadata]);
        RejectedRecord stored = JsonSerializer.Deserialize((await pipeline.Store.DownloadAsync(LabelPaths.RejectedContainer, name))!.Content.ToMemory().Span, LabelJsonContext.Default.RejectedRecord)!;
        Assert.Equal(stored.Image.ETag, listed.Metadata[LabelPaths.ImageETagMetadata]);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => pipeline.DisposeAsync().AsTask();

    private Task<BlobEntry> UploadAsync(string path, SKColor color) =>
        pipeline.UploadAsync($"{batch}/{path}", SampleImages.Solid(ImageFormat.Png, 8, 8, color));

    /// <summary>A label record as the labeling engine creates it: the upload version it covers in the record and in its metadata.</summary>
    private async Task CreateLabelRecordAsync(string path, string imageETag)
    {
        var record = new LabelRecord(
            batch,
            new ImageIdentity(pipeline.UploadContainer, $"{batch}/{path}", imageETag, "0", 1),
            new ModelIdentity("v1", "0"),
            "Center",
            [new LabelScore("shirt", 6, 0.9f)],
            DateTimeOffset.UtcNow);
        CreateOutcome created = await pipeline.Store.CreateIfAbsentAsync(
            LabelPaths.LabelsContainer,
            LabelPaths.Record(batch, path),
            BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(record, LabelJsonContext.Default.LabelRecord)),
            "application/json",
            LabelPaths.RecordMetadata(imageETag));
        Assert.Equal(CreateOutcome.Created, created);
    }
}
