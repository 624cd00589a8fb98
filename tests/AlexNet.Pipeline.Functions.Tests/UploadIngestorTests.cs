using System.Text.Json;
using AlexNet.Imaging;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Functions.Tests.Fixtures;
using AlexNet.Pipeline.Ingest;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Messaging;
using AlexNet.Testing;
using SkiaSharp;

namespace AlexNet.Pipeline.Functions.Tests;

public sealed class UploadIngestorTests : IAsyncLifetime
{
    private readonly PipelineServices pipeline = new();
    private readonly string batch = Azurite.Unique("batch");

    private UploadIngestor Ingestor => pipeline.Get<UploadIngestor>();

    [Fact]
    public async Task MessagingLabelQueueNamesTheQueueIngestSendsTo()
    {
        // Ingest had a setting of its own (Ingest:LabelQueue) beside the worker's (Worker:Queue) and the chunk sender's
        // constant: setting one sent work to a queue nobody read. Messaging:LabelQueue is now the one name for all.
        string custom = Azurite.Unique("labels");
        await using var renamed = new PipelineServices(new Dictionary<string, string?> { ["Messaging:LabelQueue"] = custom });
        var png = await renamed.UploadAsync($"{batch}/card.png", SampleImages.Solid(ImageFormat.Png, 40, 30, SKColors.Teal));

        IngestResult result = await renamed.Get<UploadIngestor>().IngestAsync(png.Container, png.Name);

        Assert.Equal(IngestOutcome.Queued, result.Outcome);
        Assert.Equal(custom, renamed.LabelQueue.Name);
        var (_, request) = Assert.Single(await renamed.DrainLabelQueueAsync());
        Assert.Equal([png.Name], request.Items!.Select(i => i.Path));
        Assert.Empty(await renamed.Get<IWorkQueueFactory>().GetQueue(PipelineNames.LabelQueue).ReceiveAsync(10, TimeSpan.Zero));
    }

    [Fact]
    public async Task ValidJpegAndPngEachSendOneLabelRequestWithTheExpectedMessageId()
    {
        var jpeg = await pipeline.UploadAsync($"{batch}/photos/cat.jpg", SampleImages.PhotoJpeg(64, 48, seed: 3));
        var png = await pipeline.UploadAsync($"{batch}/card.png", SampleImages.Solid(ImageFormat.Png, 40, 30, SKColors.Teal));

        IngestResult first = await Ingestor.IngestAsync(jpeg.Container, jpeg.Name);
        IngestResult second = await Ingestor.IngestAsync(png.Container, png.Name);

        Assert.Equal(IngestOutcome.Queued, first.Outcome);
        Assert.Equal(IngestOutcome.Queued, second.Outcome);
        var messages = await pipeline.DrainLabelQueueAsync();
        Assert.Equal(2, messages.Count);
        foreach (var entry in new[] { jpeg, png })
        {
            string expectedId = PipelineNames.MessageId(entry.Container, entry.Name, entry.ETag);
            var (messageId, request) = Assert.Single(messages, m => m.Request.Items!.Select(i => i.Path).Contains(entry.Name));
            Assert.Equal(expectedId, messageId);
            Assert.Equal(batch, request.Batch);
            Assert.Equal(entry.Container, request.Container);
            Assert.Equal([entry.Name], request.Items!.Select(i => i.Path));
            Assert.True(request.IsIngest);
            Assert.Equal(LabelRequest.IngestChunkPrefix + expectedId[..16], request.Chunk);
        }
    }

    [Fact]
    public async Task TheSameUploadEventTwiceSendsOneMessageUnderOneMessageId()
    {
        var entry = await pipeline.UploadAsync($"{batch}/dup.jpg", SampleImages.PhotoJpeg(32, 32, seed: 5));

        IngestResult first = await Ingestor.IngestAsync(entry.Container, entry.Name);
        IngestResult again = await Ingestor.IngestAsync(entry.Container, entry.Name);

        Assert.Equal(first.MessageId, again.MessageId);
        var (messageId, _) = Assert.Single(await pipeline.DrainLabelQueueAsync());
        Assert.Equal(first.MessageId, messageId);
    }

    [Fact]
    public async Task AReplacedUploadIsSentAgainUnderANewMessageId()
    {
        var before = await pipeline.UploadAsync($"{batch}/changing.png", SampleImages.Solid(ImageFormat.Png, 20, 20, SKColors.Red));
        IngestResult first = await Ingestor.IngestAsync(before.Container, before.Name);
        var after = await pipeline.UploadAsync($"{batch}/changing.png", SampleImages.Solid(ImageFormat.Png, 20, 20, SKColors.Blue));
        IngestResult second = await Ingestor.IngestAsync(after.Container, after.Name);

        Assert.NotEqual(before.ETag, after.ETag);
        Assert.NotEqual(first.MessageId, second.MessageId);
        Assert.Equal(2, (await pipeline.DrainLabelQueueAsync()).Count);
    }

    public static TheoryData<string, RejectionCode> BadUploads() => new()
    {
        { "text.jpg", RejectionCode.UnsupportedFormat },
        { "page.png", RejectionCode.UnsupportedFormat },
        { "empty.jpg", RejectionCode.Empty },
        { "bad-ihdr-crc.png", RejectionCode.Corrupt },
        { "bomb-20000x20000.png", RejectionCode.TooManyPixels },
        { "bomb-65535x65535.jpg", RejectionCode.TooManyPixels },
        { "bomb-10000-frames.gif", RejectionCode.TooManyFrames },
        { "bomb-5000-scans.jpg", RejectionCode.TooManyFrames },
        { "riff-larger-than-file.webp", RejectionCode.Truncated },
    };

    [Theory]
    [MemberData(nameof(BadUploads))]
    public async Task ABadUploadGetsARejectedRecordWithItsReasonAndNoMessage(string corpusName, RejectionCode code)
    {
        BadImage bad = BadImageCorpus.Fixed().Single(b => b.Name == corpusName);
        var entry = await pipeline.UploadAsync($"{batch}/in/{corpusName}", bad.Bytes);

        IngestResult result = await Ingestor.IngestAsync(entry.Container, entry.Name);

        Assert.Equal(IngestOutcome.Rejected, result.Outcome);
        RejectedRecord record = await ReadRejectedAsync($"in/{corpusName}");
        Assert.Equal(code.ToString(), record.Code);
        Assert.False(string.IsNullOrWhiteSpace(record.Reason));
        Assert.Equal(batch, record.Batch);
        Assert.Equal(entry.ETag, record.Image.ETag);
        Assert.Equal(entry.Name, record.Image.Path);
        Assert.Empty(await pipeline.DrainLabelQueueAsync());
    }

    [Fact]
    public async Task ARepeatedEventForARejectedUploadLeavesItsRecordAsItWas()
    {
        var entry = await pipeline.UploadAsync($"{batch}/note.jpg", "just text"u8.ToArray());
        await Ingestor.IngestAsync(entry.Container, entry.Name);
        var written = await pipeline.Store.GetEntryAsync(LabelPaths.RejectedContainer, LabelPaths.Record(batch, "note.jpg"));

        IngestResult again = await Ingestor.IngestAsync(entry.Container, entry.Name);

        Assert.Equal(IngestOutcome.AlreadyRejected, again.Outcome);
        Assert.Equal(written!.ETag, (await pipeline.Store.GetEntryAsync(LabelPaths.RejectedContainer, LabelPaths.Record(batch, "note.jpg")))!.ETag);
    }

    [Fact]
    public async Task ABombLargerThanTheHeaderReadIsRejectedFromItsFirstBytesAlone()
    {
        var options = pipeline.Get<Microsoft.Extensions.Options.IOptions<IngestOptions>>().Value;
        byte[] header = BadImageCorpus.Fixed().Single(b => b.Name == "bomb-20000x20000.png").Bytes;
        byte[] large = [.. header, .. new byte[options.HeadBytes * 3]];
        var entry = await pipeline.UploadAsync($"{batch}/huge.png", large);

        IngestResult result = await Ingestor.IngestAsync(entry.Container, entry.Name);

        Assert.Equal(IngestOutcome.Rejected, result.Outcome);
        RejectedRecord record = await ReadRejectedAsync("huge.png");
        Assert.Equal(nameof(RejectionCode.TooManyPixels), record.Code);
        Assert.Equal(large.Length, record.Image.Size);

        // Only the header was read, so no content hash could be taken.
        Assert.Equal(string.Empty, record.Image.Sha256);
    }

    [Fact]
    public async Task AValidImageLargerThanTheHeaderReadIsQueuedThoughItsEndWasNotRead()
    {
        var options = pipeline.Get<Microsoft.Extensions.Options.IOptions<IngestOptions>>().Value;
        byte[] photo = SampleImages.PhotoJpeg(1024, 768, seed: 9, quality: 98);
        Assert.True(photo.Length > options.HeadBytes, $"the sample is {photo.Length} bytes; it must be over {options.HeadBytes}");
        var entry = await pipeline.UploadAsync($"{batch}/big.jpg", photo);

        IngestResult result = await Ingestor.IngestAsync(entry.Container, entry.Name);

        Assert.Equal(IngestOutcome.Queued, result.Outcome);
        Assert.Single(await pipeline.DrainLabelQueueAsync());
    }

    [Fact]
    public async Task AnUploadOutsideABatchFolderIsRejectedUnderTheUnbatchedFolder()
    {
        string name = $"loose-{Guid.NewGuid():N}.jpg";
        var entry = await pipeline.UploadAsync(name, SampleImages.PhotoJpeg(16, 16, seed: 1));

        IngestResult result = await Ingestor.IngestAsync(entry.Container, entry.Name);

        Assert.Equal(IngestOutcome.Rejected, result.Outcome);
        Assert.Equal(UploadIngestor.InvalidLocationCode, result.Code);
        var download = await pipeline.Store.DownloadAsync(LabelPaths.RejectedContainer, LabelPaths.Record(IncomingBlob.UnbatchedBatch, name));
        Assert.NotNull(download);
        Assert.Empty(await pipeline.DrainLabelQueueAsync());
    }

    [Fact]
    public async Task AnUploadDeletedBeforeItIsReadIsReportedVanished()
    {
        IngestResult result = await Ingestor.IngestAsync(pipeline.UploadContainer, $"{batch}/gone.jpg");

        Assert.Equal(IngestOutcome.Vanished, result.Outcome);
        Assert.Empty(await pipeline.DrainLabelQueueAsync());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => pipeline.DisposeAsync().AsTask();

    private async Task<RejectedRecord> ReadRejectedAsync(string path)
    {
        var download = await pipeline.Store.DownloadAsync(LabelPaths.RejectedContainer, LabelPaths.Record(batch, path));
        Assert.NotNull(download);
        return JsonSerializer.Deserialize(download.Content.ToMemory().Span, LabelJsonContext.Default.RejectedRecord)!;
    }
}
