using AlexNet.Testing;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using AlexNet.Imaging;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Hosting;
using AlexNet.Pipeline.Ingest;
using AlexNet.Pipeline.Labeling;
using AlexNet.Reliability.Tests.Fixtures;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace AlexNet.Reliability.Tests;

/// <summary>
/// Upload events as Event Grid really delivers them: each one twice, in any order, some for a blob that has been
/// overwritten since. They go through UploadEvents and UploadIngestor onto a Storage Queue, which has no duplicate
/// detection, so every repeat reaches the running worker; idempotent writes are all that stands between them and
/// duplicate records.
/// </summary>
public sealed class DuplicateEventTests(ITestOutputHelper output)
{
    [Fact]
    public async Task EveryUploadEventDeliveredTwiceAndOutOfOrderWritesOneRecordPerImage()
    {
        int images = Soak.Int("EVENT_IMAGES", ci: 120, soak: 1000);
        var random = new Random(images);

        await using var account = new IsolatedAccount(WorkerHosts.Queues());
        await TestModels.PromoteV1Async(account.Store);
        string batch = Uploads.NewBatch("events");
        Dictionary<int, CorruptInput> corrupt = Uploads.OnePercentCorrupt(images, seed: 5, firstKind: 1);
        string[] names = await Uploads.UploadAsync(account.Store, batch, images, corrupt);

        var ingestor = new UploadIngestor(
            new StoreBlobHeadReader(account.Store), account.Store, account.Queues, new ImageDecoder(),
            Options.Create(new IngestOptions()), Options.Create(new MessagingOptions()), TimeProvider.System, NullLogger<UploadIngestor>.Instance);
        var outcomes = new ConcurrentDictionary<IngestOutcome, int>();
        async Task DeliverAsync(IEnumerable<string> events) =>
            await Parallel.ForEachAsync(events, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (message, token) =>
            {
                foreach (CreatedBlob blob in UploadEvents.Parse(message))
                    outcomes.AddOrUpdate((await ingestor.IngestAsync(blob.Container, blob.Name, token)).Outcome, 1, (_, n) => n + 1);
            });

        IHost host = await WorkerHosts.StartAsync(WorkerHosts.Settings("event-worker"), account.Store, account.Queues);
        var clock = Stopwatch.StartNew();
        int[] overwritten;
        try
        {
            // Every event twice, shuffled; the first half goes out, then a tenth of the images are overwritten (new
            // ETag, new content, new events), and the rest goes out mixed with the new events, also twice each.
            List<string> deliveries = Shuffle([.. names.SelectMany(n => new[] { Event(n, 1), Event(n, 1) })], random);
            await DeliverAsync(deliveries.Take(deliveries.Count / 2));

            overwritten = [.. Enumerable.Range(0, images).Where(i => !corrupt.ContainsKey(i)).OrderBy(_ => random.Next()).Take(Math.Max(1, images / 10))];
            foreach (int i in overwritten)
                await account.Store.UploadAsync(PipelineNames.IncomingContainer, names[i], BinaryData.FromBytes(Uploads.Photo(i, seed: 1)), "image/jpeg");
            List<string> rest = Shuffle([.. deliveries.Skip(deliveries.Count / 2), .. overwritten.SelectMany(i => new[] { Event(names[i], 2), Event(names[i], 2) })], random);
            await DeliverAsync(rest);

            // Every ingest is done, so an empty queue means every label request was handled.
            await Soak.UntilAsync(
                async () => await account.MessagesLeftAsync(PipelineNames.LabelQueue) == 0,
                TimeSpan.FromSeconds(60 + images / 2), "the label queue to drain",
                async () => $"{await account.MessagesLeftAsync(PipelineNames.LabelQueue)} messages left");
        }
        finally
        {
            await WorkerHosts.StopAsync(host);
        }
        double seconds = clock.Elapsed.TotalSeconds;

        AuditResult audit = await RecordAudit.RunAsync(account.Store, batch, names);
        int current = await CurrentRecordsAsync(account, batch, names);

        // A record is written once; an overwritten image may have had its first version labeled before the overwrite.
        var extraWrites = new List<string>();
        for (int i = 0; i < images; i++)
        {
            string container = corrupt.ContainsKey(i) ? LabelPaths.RejectedContainer : LabelPaths.LabelsContainer;
            string record = LabelPaths.Record(batch, LabelPaths.RelativeToBatch(batch, names[i]));
            int allowed = overwritten.Contains(i) ? 2 : 1;
            if (account.Store.WritesOf(container, record) is var writes && (writes < 1 || writes > allowed))
                extraWrites.Add($"{container}/{record}: {writes} writes, {allowed} allowed");
        }

        int events = 2 * (images + overwritten.Length);
        Figures.From("upload events twice, out of order", 1, events / 2, audit with { Duplicates = audit.Duplicates + extraWrites.Count }, seconds,
            $"{events} deliveries of {events / 2} events ({overwritten.Length} for overwritten blobs); {current} of {images} records match the current content; ingest: {string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}"))}")
            .Report(output);

        audit.AssertClean();
        Assert.Empty(extraWrites);
        Assert.Equal(images, current);
        Assert.Equal(corrupt.Count, audit.Rejected);
        Assert.Equal(events, outcomes.Values.Sum());
        // Uploads the header check refuses are refused once and recognised as repeats after (a truncated JPEG passes
        // the header check and is rejected by the worker's full decode instead).
        Assert.InRange(outcomes.GetValueOrDefault(IngestOutcome.Rejected), 1, corrupt.Count);
        Assert.Equal(outcomes.GetValueOrDefault(IngestOutcome.Rejected), outcomes.GetValueOrDefault(IngestOutcome.AlreadyRejected));
        Assert.True(outcomes.GetValueOrDefault(IngestOutcome.Queued) > images, "each repeat of a good upload should be queued again (the Storage Queue cannot drop it)");
    }

    /// <summary>A BlobCreated event in the Event Grid schema, as the storage account sends it.</summary>
    private static string Event(string name, int version) => JsonSerializer.Serialize(new[]
    {
        new Dictionary<string, object>
        {
            ["id"] = Guid.NewGuid().ToString(),
            ["eventType"] = UploadEvents.BlobCreatedType,
            ["subject"] = $"/blobServices/default/containers/{PipelineNames.IncomingContainer}/blobs/{name}",
            ["eventTime"] = DateTimeOffset.UtcNow,
            ["data"] = new Dictionary<string, object> { ["api"] = "PutBlob", ["sequencer"] = $"{version:D16}" },
            ["dataVersion"] = "",
        },
    });

    private static List<string> Shuffle(List<string> items, Random random)
    {
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(items));
        return items;
    }

    /// <summary>Images whose record (label or rejected) describes the content the blob has now.</summary>
    private static async Task<int> CurrentRecordsAsync(IsolatedAccount account, string batch, string[] names)
    {
        int current = 0;
        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (name, token) =>
        {
            var blob = await account.Store.DownloadAsync(PipelineNames.IncomingContainer, name, token);
            string sha = Convert.ToHexStringLower(SHA256.HashData(blob!.Content.ToMemory().Span));
            string record = LabelPaths.Record(batch, LabelPaths.RelativeToBatch(batch, name));
            foreach (string container in new[] { LabelPaths.LabelsContainer, LabelPaths.RejectedContainer })
            {
                if (await account.Store.DownloadAsync(container, record, token) is { } found
                    && JsonDocument.Parse(found.Content.ToMemory()).RootElement.GetProperty("image") is var image
                    && (image.GetProperty("sha256").GetString() == sha || image.GetProperty("eTag").GetString() == blob.Entry.ETag))
                {
                    Interlocked.Increment(ref current);
                    return;
                }
            }
        });
        return current;
    }
}
