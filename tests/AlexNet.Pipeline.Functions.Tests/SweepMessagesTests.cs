using AlexNet.Imaging;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Functions.Tests.Fixtures;
using AlexNet.Pipeline.Ingest;
using AlexNet.Pipeline.Messaging;
using AlexNet.Testing;
using SkiaSharp;

namespace AlexNet.Pipeline.Functions.Tests;

/// <summary>
/// The messages a sweep sends: the uploads of one batch that pass their checks share messages, up to
/// <c>Ingest:SweepImagesPerMessage</c> images and <see cref="LabelRequest.MaxInlineBodyBytes"/> of body each.
/// </summary>
public sealed class SweepMessagesTests
{
    private static readonly byte[] Png = SampleImages.Solid(ImageFormat.Png, 8, 8, SKColors.Gray);

    [Fact]
    public async Task OneBatchsUploadsShareMessagesOfUpToTheSetCountAndBatchesDoNotMix()
    {
        await using var pipeline = new PipelineServices(new Dictionary<string, string?> { ["Ingest:SweepImagesPerMessage"] = "8" });
        string first = Azurite.Unique("pack"), second = Azurite.Unique("pack");
        var uploads = new List<string>();
        for (int i = 0; i < 19; i++)
            uploads.Add((await pipeline.UploadAsync($"{first}/{i:D2}.png", Png)).Name);
        for (int i = 0; i < 3; i++)
            uploads.Add((await pipeline.UploadAsync($"{second}/{i:D2}.png", Png)).Name);
        await pipeline.UploadAsync($"{first}/notes.png", "not a picture"u8.ToArray());

        SweepResult result = await pipeline.Get<IngestSweeper>().SweepAsync();
        var sent = await pipeline.DrainLabelQueueAsync();

        Assert.Equal((23, 22, 1), (result.Seen, result.Queued, result.Rejected));
        Assert.Equal([3, 3, 8, 8], sent.Select(m => m.Request.Items!.Count).Order());
        Assert.All(sent, m => Assert.All(m.Request.Items!, item => Assert.StartsWith(m.Request.Batch + "/", item.Path, StringComparison.Ordinal)));
        // Every upload that passed its checks is in exactly one message, with the ETag it was checked at; the rejected one in none.
        Assert.Equal(uploads.Order(StringComparer.Ordinal), sent.SelectMany(m => m.Request.Items!.Select(i => i.Path)).Order(StringComparer.Ordinal));
        Assert.All(sent.SelectMany(m => m.Request.Items!), item => Assert.False(string.IsNullOrEmpty(item.ETag)));
        Assert.Equal(sent.Count, sent.Select(m => m.MessageId).Distinct().Count());
        Assert.All(sent, m => Assert.True(m.Request.IsIngest));
    }

    [Fact]
    public async Task MessagesStayWithinTheInlineBodyLimitWhenNamesAreLong()
    {
        await using var pipeline = new PipelineServices(new Dictionary<string, string?> { ["Ingest:SweepImagesPerMessage"] = "256" });
        string batch = Azurite.Unique("long");
        // Names of over 900 characters (the service allows 1,024): 48 of them are about 44 KB of paths, more than one message holds.
        for (int i = 0; i < 48; i++)
            await pipeline.UploadAsync($"{batch}/{new string('n', 900)}{i:D2}.png", Png);

        SweepResult result = await pipeline.Get<IngestSweeper>().SweepAsync();
        var bodies = new List<(int Bytes, int Items)>();
        while (await pipeline.LabelQueue.ReceiveAsync(100, TimeSpan.Zero) is { Count: > 0 } received)
        {
            foreach (ReceivedMessage message in received)
            {
                bodies.Add((message.Body.ToMemory().Length, ContractSerializer.FromBinary<LabelRequest>(message.Body).Items!.Count));
                await pipeline.LabelQueue.CompleteAsync(message);
            }
        }

        Assert.Equal(48, result.Queued);
        Assert.Equal(48, bodies.Sum(b => b.Items));
        Assert.True(bodies.Count >= 2, $"{bodies.Count} message(s) for 48 KB of names");
        Assert.All(bodies, b => Assert.InRange(b.Bytes, 1, LabelRequest.MaxInlineBodyBytes));
    }

    [Fact]
    public async Task AMessageOfOneUploadHasTheIdTheUploadTriggerGivesIt()
    {
        await using var pipeline = new PipelineServices();
        string batch = Azurite.Unique("one");
        var upload = await pipeline.UploadAsync($"{batch}/only.png", Png);

        await pipeline.Get<IngestSweeper>().SweepAsync();
        var (messageId, request) = Assert.Single(await pipeline.DrainLabelQueueAsync());
        IngestResult triggered = await pipeline.Get<UploadIngestor>().IngestAsync(upload.Name);

        // Service Bus duplicate detection then drops whichever of the two comes second.
        Assert.Equal(triggered.MessageId, messageId);
        Assert.Equal(PipelineNames.MessageId(pipeline.UploadContainer, upload.Name, upload.ETag), messageId);
        Assert.Equal([upload.Name], request.Items!.Select(i => i.Path));
    }
}
