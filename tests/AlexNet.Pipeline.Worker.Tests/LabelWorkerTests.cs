using AlexNet.Testing;
using System.Text.Json;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Worker.Tests.Fixtures;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace AlexNet.Pipeline.Worker.Tests;

/// <summary>The label loop end to end: Azurite blobs, in-process or Azurite Storage Queue messages, a real (small) network.</summary>
public sealed class LabelWorkerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task LabelsEveryImageOfSeveralMessagesThenWritesChunkMarkersAndCompletes()
    {
        var store = new InstrumentedBlobStore(Azurite.IsolatedStore());
        await TestModels.PublishAsync(store, TestModels.V1);
        var settings = WorkerHost.Settings("label-requests");
        var queues = WorkerHost.InProcessQueues(settings);
        string batch = TestPipeline.NewBatch("several");
        string[] paths = await TestPipeline.UploadPhotosAsync(store, batch, 13);
        const string traceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        LabelRequest[] chunks =
        [
            TestPipeline.Chunk(batch, "c000", paths[..4], traceParent),
            TestPipeline.Chunk(batch, "c001", paths[4..8]),
            TestPipeline.Chunk(batch, "c002", paths[8..12]),
            TestPipeline.Chunk(batch, LabelRequest.IngestChunkPrefix + "x1", paths[12..]),
        ];
        await TestPipeline.SendAsync(queues.GetQueue("label-requests"), chunks);

        using var spans = new SpanRecorder();
        using var labeledCounter = new CounterRecorder("alexnet.worker.images.labeled");
        await using (var worker = await WorkerHost.StartAsync(settings, store, queues))
        {
            RecordingQueue queue = queues.Queue("label-requests");
            await TestPipeline.EventuallyAsync(() => Task.FromResult(queue.CompletedCount == 4), Patience, "all four messages to be completed");
        }

        List<LabelRecord> records = await TestPipeline.LabelRecordsAsync(store, batch);
        Assert.Equal(paths.Order(StringComparer.Ordinal), records.Select(r => r.Image.Path).Order(StringComparer.Ordinal));
        Assert.All(records, r =>
        {
            Assert.Equal("v1", r.Model.Version);
            Assert.Equal(5, r.Top5.Count);
            Assert.Equal(PipelineNames.IncomingContainer, r.Image.Container);
        });

        // Orchestration chunks get a marker, written before the message was completed; ingest chunks do not.
        List<ChunkDone> markers = await TestPipeline.MarkersAsync(store, batch);
        Assert.Equal(["c000", "c001", "c002"], markers.Select(m => m.Chunk).Order(StringComparer.Ordinal));
        Assert.All(markers, m => Assert.Equal((4, 4, 0, 0, "v1", "test-worker"), (m.Images, m.Labeled, m.Rejected, m.Failed, m.ModelVersion, m.Worker)));
        // Each of them has its records file for the batch report: the chunk's records in its request's order, as stored.
        var byPath = records.ToDictionary(r => r.Image.Path, r => JsonSerializer.Serialize(r, LabelJsonContext.Default.LabelRecord));
        List<ChunkRecords> files = await TestPipeline.ChunkRecordsAsync(store, batch);
        Assert.Equal(["c000", "c001", "c002"], files.Select(f => f.Chunk).Order(StringComparer.Ordinal));
        foreach (ChunkRecords file in files)
        {
            LabelRequest chunk = chunks.Single(c => c.Chunk == file.Chunk);
            Assert.Equal(chunk.Items!.Select(i => i.Path), file.Labels.Select(r => r.Image.Path));
            Assert.All(file.Labels, r => Assert.Equal(byPath[r.Image.Path], JsonSerializer.Serialize(r, LabelJsonContext.Default.LabelRecord)));
            Assert.Empty(file.Rejected);
        }
        Assert.All(queues.Queue("label-requests").Log, entry => Assert.Equal(Settlement.Completed, entry.Settlement));
        Assert.Empty(await DeadLettersAsync(queues.GetQueue("label-requests")));

        Assert.Equal(13, labeledCounter.Total);
        Activity span = Assert.Single(spans.Completed, a => (string?)a.GetTagItem("alexnet.batch") == batch);
        Assert.Contains(span.Links, link => link.Context.TraceId.ToHexString() == "0af7651916cd43dd8448eb211c80319c");
        Assert.Equal(13, span.GetTagItem("alexnet.labeled"));
    }

    [Fact]
    public async Task ARoundOfSingleImageUploadsIsToppedUpToAForwardBatchAndARoundOfChunksIsNot()
    {
        string queueName = Azurite.QueueName("topup");
        var settings = WorkerHost.Settings(queueName);
        settings["Worker:MaxMessagesPerReceive"] = "4";
        var queues = WorkerHost.StorageQueues(settings);
        using IHost host = WorkerHost.Build(settings, Azurite.IsolatedStore(), queues);
        var processor = host.Services.GetRequiredService<AlexNet.Pipeline.Worker.LabelQueueProcessor>();
        IWorkQueue queue = queues.GetQueue(queueName);
        string batch = TestPipeline.NewBatch("topup");

        // 20 upload messages of one image each, Worker:BatchSize 16: one round takes 16 (four receives), the next the other 4.
        await TestPipeline.SendAsync(queue, [.. Enumerable.Range(0, 20).Select(i => TestPipeline.Chunk(batch, $"{LabelRequest.IngestChunkPrefix}{i}", [$"{batch}/{i}.jpg"]))]);
        IReadOnlyList<ReceivedMessage> first = await processor.ReceiveAsync();
        IReadOnlyList<ReceivedMessage> second = await processor.ReceiveAsync();
        Assert.Equal((16, 4), (first.Count, second.Count));

        // Chunks of 10 images: the first page of 4 holds 40 images, more than a batch, so the round stops there.
        await TestPipeline.SendAsync(queue, [.. Enumerable.Range(0, 6).Select(i => TestPipeline.Chunk(batch, $"c{i:D3}", [.. Enumerable.Range(0, 10).Select(k => $"{batch}/{i}-{k}.jpg")]))]);
        Assert.Equal(4, (await processor.ReceiveAsync()).Count);

        await new Azure.Storage.Queues.QueueClient(Azurite.ConnectionString, queueName).DeleteIfExistsAsync();
    }

    [Fact]
    public async Task SameMessagesDeliveredTwiceWriteNoDuplicateRecords()
    {
        var store = new InstrumentedBlobStore(Azurite.IsolatedStore());
        await TestModels.PublishAsync(store, TestModels.V1);
        string queueName = Azurite.QueueName("twice");
        var settings = WorkerHost.Settings(queueName);
        var queues = WorkerHost.StorageQueues(settings);
        string batch = TestPipeline.NewBatch("twice");
        string[] paths = await TestPipeline.UploadPhotosAsync(store, batch, 10);
        LabelRequest[] chunks = [TestPipeline.Chunk(batch, "c000", paths[..5]), TestPipeline.Chunk(batch, "c001", paths[5..])];

        // Storage Queues have no duplicate detection: both copies of each message are delivered.
        IWorkQueue queue = queues.GetQueue(queueName);
        await TestPipeline.SendAsync(queue, chunks);
        await TestPipeline.SendAsync(queue, chunks);
        await using (var worker = await WorkerHost.StartAsync(settings, store, queues))
        {
            await TestPipeline.EventuallyAsync(
                () => Task.FromResult(queues.Queue(queueName).Log.Count(e => e.Settlement == Settlement.Completed) == 4), Patience, "four deliveries to be completed");
        }

        Assert.Equal(10, (await TestPipeline.LabelRecordsAsync(store, batch)).Count);
        Assert.All(paths, path => Assert.Equal(1, store.WritesOf(LabelPaths.LabelsContainer, TestPipeline.RecordName(batch, path))));
        Assert.All(chunks, chunk => Assert.Equal(1, store.WritesOf(PipelineNames.RunsContainer, PipelineNames.ChunkDoneBlob(batch, chunk.Chunk))));
    }

    [Fact]
    public async Task PoisonMessagesAreDeadLetteredWithTheirReasonAndTheOthersLabeled()
    {
        var store = Azurite.IsolatedStore();
        await TestModels.PublishAsync(store, TestModels.V1);
        var settings = WorkerHost.Settings("poison");
        var queues = WorkerHost.InProcessQueues(settings);
        string batch = TestPipeline.NewBatch("poison");
        string[] paths = await TestPipeline.UploadPhotosAsync(store, batch, 3);
        IWorkQueue queue = queues.GetQueue("poison");
        await queue.SendAsync(
        [
            new OutgoingMessage("not-json", BinaryData.FromString("this is not a label request")),
            TestPipeline.Message(TestPipeline.Chunk("../escape", "c000", paths)) with { MessageId = "bad-batch" },
            TestPipeline.Message(TestPipeline.Chunk(batch, "c000", [.. paths, null!])) with { MessageId = "bad-path" },
            TestPipeline.Message(TestPipeline.Chunk(batch, "c001", paths)),
        ]);

        await using (var worker = await WorkerHost.StartAsync(settings, store, queues))
        {
            await TestPipeline.EventuallyAsync(() => Task.FromResult(queues.Queue("poison").Log.Count == 4), Patience, "all four messages to be settled");
        }

        var deadLetters = (await DeadLettersAsync(queue)).ToDictionary(m => m.MessageId, m => m.DeadLetterReason);
        Assert.Equal(["bad-batch", "bad-path", "not-json"], deadLetters.Keys.Order(StringComparer.Ordinal));
        Assert.StartsWith("invalid label request: body is not a LabelRequest", deadLetters["not-json"]);
        Assert.Contains("batch id '../escape'", deadLetters["bad-batch"]);
        Assert.Contains("an item or its path is null", deadLetters["bad-path"]);
        Assert.Equal(3, (await TestPipeline.LabelRecordsAsync(store, batch)).Count);
        Assert.Equal("c001", Assert.Single(await TestPipeline.MarkersAsync(store, batch)).Chunk);
    }

    [Fact]
    public async Task CorruptImageGetsARejectedRecordAndMissingImageVanishesWhileTheMessageCompletes()
    {
        var store = Azurite.IsolatedStore();
        await TestModels.PublishAsync(store, TestModels.V1);
        var settings = WorkerHost.Settings("corrupt");
        var queues = WorkerHost.InProcessQueues(settings);
        string batch = TestPipeline.NewBatch("corrupt");
        string[] paths = await TestPipeline.UploadPhotosAsync(store, batch, 2);
        string corrupt = $"{batch}/truncated.jpg";
        byte[] photo = AlexNet.Testing.SampleImages.PhotoJpeg(96, 80, 42);
        await store.UploadAsync(PipelineNames.IncomingContainer, corrupt, BinaryData.FromBytes(photo[..(photo.Length / 3)]));
        string missing = $"{batch}/never-uploaded.jpg";
        await TestPipeline.SendAsync(queues.GetQueue("corrupt"), TestPipeline.Chunk(batch, "c000", [.. paths, corrupt, missing]));

        await using (var worker = await WorkerHost.StartAsync(settings, store, queues))
        {
            await TestPipeline.EventuallyAsync(() => Task.FromResult(queues.Queue("corrupt").CompletedCount == 1), Patience, "the message to be completed");
        }

        Assert.Equal(paths.Order(StringComparer.Ordinal), (await TestPipeline.LabelRecordsAsync(store, batch)).Select(r => r.Image.Path).Order(StringComparer.Ordinal));
        RejectedRecord rejected = Assert.Single(await TestPipeline.RejectedRecordsAsync(store, batch));
        Assert.Equal(corrupt, rejected.Image.Path);
        Assert.False(string.IsNullOrWhiteSpace(rejected.Reason));
        ChunkDone marker = Assert.Single(await TestPipeline.MarkersAsync(store, batch));
        // The swapped image is counted as gone (it was always 0 + 0 + 0: images went missing from the counts).
        Assert.Equal((4, 2, 1, 1, 0), (marker.Images, marker.Labeled, marker.Rejected, marker.Vanished, marker.Failed));
    }

    [Fact]
    public async Task ABadNameAmongGoodImagesGetsARejectedRecordAndTheRestOfItsChunkIsLabeled()
    {
        var store = Azurite.IsolatedStore();
        await TestModels.PublishAsync(store, TestModels.V1);
        var settings = WorkerHost.Settings("bad-name");
        var queues = WorkerHost.InProcessQueues(settings);
        string batch = TestPipeline.NewBatch("bad-name");
        string[] paths = await TestPipeline.UploadPhotosAsync(store, batch, 3);

        // A name of 1,020 characters is a valid blob name, but "<name>.json" would not be: its record gets a hashed name.
        string longName = $"{batch}/{new string('l', 1020 - batch.Length - 5)}.jpg";
        await store.UploadAsync(PipelineNames.IncomingContainer, longName, BinaryData.FromBytes(AlexNet.Testing.SampleImages.PhotoJpeg(96, 80, 7)));
        string doubleSlash = $"{batch}/hn//double-slash.png";
        LabelRequest chunk = TestPipeline.Chunk(batch, "c000", [.. paths, doubleSlash, longName], etags:
            [.. await TestPipeline.ETagsAsync(store, [.. paths]), "\"0x8DC0000000000000\"", (await store.GetEntryAsync(PipelineNames.IncomingContainer, longName))!.ETag]);
        await TestPipeline.SendAsync(queues.GetQueue("bad-name"), chunk);

        await using (var worker = await WorkerHost.StartAsync(settings, store, queues))
        {
            await TestPipeline.EventuallyAsync(() => Task.FromResult(queues.Queue("bad-name").Log.Count == 1), Patience, "the message to be settled");
        }

        Assert.Equal(1, queues.Queue("bad-name").CompletedCount);
        Assert.Empty(await DeadLettersAsync(queues.GetQueue("bad-name")));
        Assert.Equal(paths.Append(longName).Order(StringComparer.Ordinal), (await TestPipeline.LabelRecordsAsync(store, batch)).Select(r => r.Image.Path).Order(StringComparer.Ordinal));
        RejectedRecord rejected = Assert.Single(await TestPipeline.RejectedRecordsAsync(store, batch));
        Assert.Equal(doubleSlash, rejected.Image.Path);
        Assert.Equal("\"0x8DC0000000000000\"", rejected.Image.ETag);
        Assert.Contains(doubleSlash, rejected.Reason, StringComparison.Ordinal);
        ChunkDone marker = Assert.Single(await TestPipeline.MarkersAsync(store, batch));
        Assert.Equal((5, 4, 1, 0), (marker.Images, marker.Labeled, marker.Rejected, marker.Failed));
    }

    [Fact]
    public async Task AnImageOverTheByteLimitOrReplacedSinceItWasQueuedIsNotDownloaded()
    {
        var store = new InstrumentedBlobStore(Azurite.IsolatedStore());
        await TestModels.PublishAsync(store, TestModels.V1);
        var settings = WorkerHost.Settings("limits");
        var queues = WorkerHost.InProcessQueues(settings);
        string batch = TestPipeline.NewBatch("limits");
        string[] paths = await TestPipeline.UploadPhotosAsync(store, batch, 2);
        byte[] large = new byte[200_000];
        new Random(3).NextBytes(large);
        string big = $"{batch}/big.jpg";
        await store.UploadAsync(PipelineNames.IncomingContainer, big, BinaryData.FromBytes(large));
        string swapped = $"{batch}/swapped.jpg";
        await store.UploadAsync(PipelineNames.IncomingContainer, swapped, BinaryData.FromBytes(AlexNet.Testing.SampleImages.PhotoJpeg(96, 80, 5)));
        string queuedVersion = (await store.GetEntryAsync(PipelineNames.IncomingContainer, swapped))!.ETag;
        string[] etags = await TestPipeline.ETagsAsync(store, [.. paths, big]);
        await store.UploadAsync(PipelineNames.IncomingContainer, swapped, BinaryData.FromBytes(large));
        await TestPipeline.SendAsync(queues.GetQueue("limits"), TestPipeline.Chunk(batch, "c000", [.. paths, big, swapped], etags: [.. etags, queuedVersion]));

        await using (var worker = await WorkerHost.StartAsync(
            settings, store, queues, services: services => services.AddSingleton(new AlexNet.Imaging.ImageDecoder(new AlexNet.Imaging.ImageLimits { MaxBytes = 100_000 }))))
        {
            await TestPipeline.EventuallyAsync(() => Task.FromResult(queues.Queue("limits").Log.Count == 1), Patience, "the message to be settled");
        }

        Assert.Equal(1, queues.Queue("limits").CompletedCount);
        Assert.Equal(paths.Order(StringComparer.Ordinal), store.ContentReads(PipelineNames.IncomingContainer).Order(StringComparer.Ordinal));
        Assert.Equal(paths.Order(StringComparer.Ordinal), (await TestPipeline.LabelRecordsAsync(store, batch)).Select(r => r.Image.Path).Order(StringComparer.Ordinal));
        RejectedRecord rejected = Assert.Single(await TestPipeline.RejectedRecordsAsync(store, batch));
        Assert.Equal((big, "TooManyBytes", 200_000L), (rejected.Image.Path, rejected.Code, rejected.Image.Size));
        ChunkDone marker = Assert.Single(await TestPipeline.MarkersAsync(store, batch));
        Assert.Equal((4, 2, 1, 0), (marker.Images, marker.Labeled, marker.Rejected, marker.Failed));
    }

    [Fact]
    public async Task ARejectedImageIsNotDownloadedAgainWhenItsChunkComesBack()
    {
        var store = new InstrumentedBlobStore(Azurite.IsolatedStore());
        await TestModels.PublishAsync(store, TestModels.V1);
        var settings = WorkerHost.Settings("rejected-once");
        var queues = WorkerHost.InProcessQueues(settings);
        string batch = TestPipeline.NewBatch("rejected-once");
        string[] paths = await TestPipeline.UploadPhotosAsync(store, batch, 1);
        string corrupt = $"{batch}/truncated.jpg";
        byte[] photo = AlexNet.Testing.SampleImages.PhotoJpeg(96, 80, 42);
        await store.UploadAsync(PipelineNames.IncomingContainer, corrupt, BinaryData.FromBytes(photo[..(photo.Length / 3)]));
        string[] etags = await TestPipeline.ETagsAsync(store, [.. paths, corrupt]);
        IWorkQueue queue = queues.GetQueue("rejected-once");

        await using (var worker = await WorkerHost.StartAsync(settings, store, queues))
        {
            await TestPipeline.SendAsync(queue, TestPipeline.Chunk(batch, "c000", [.. paths, corrupt], etags: etags));
            await TestPipeline.EventuallyAsync(() => Task.FromResult(queues.Queue("rejected-once").CompletedCount == 1), Patience, "the first chunk to be completed");
            await TestPipeline.SendAsync(queue, TestPipeline.Chunk(batch, "c001", [.. paths, corrupt], etags: etags));
            await TestPipeline.EventuallyAsync(() => Task.FromResult(queues.Queue("rejected-once").CompletedCount == 2), Patience, "the second chunk to be completed");
        }

        Assert.Equal(1, store.ContentReads(PipelineNames.IncomingContainer).Count(name => name == corrupt));
        Assert.Equal(corrupt, Assert.Single(await TestPipeline.RejectedRecordsAsync(store, batch)).Image.Path);
        var markers = (await TestPipeline.MarkersAsync(store, batch)).OrderBy(m => m.Chunk, StringComparer.Ordinal).ToList();
        Assert.Equal([(1, 0, 1), (0, 1, 1)], markers.Select(m => (m.Labeled, m.AlreadyLabeled, m.Rejected)));
    }

    [Fact]
    public async Task DownloadedBytesHeldAtOnceStayWithinWorkerMaxBytesInFlight()
    {
        var store = new InstrumentedBlobStore(Azurite.IsolatedStore());
        await TestModels.PublishAsync(store, TestModels.V1);
        var settings = WorkerHost.Settings("byte-budget");
        settings["Worker:MaxBytesInFlight"] = "1";
        var queues = WorkerHost.InProcessQueues(settings);
        string batch = TestPipeline.NewBatch("byte-budget");
        string[] paths = await TestPipeline.UploadPhotosAsync(store, batch, 6);
        store.DownloadDelay = TimeSpan.FromMilliseconds(100);
        await TestPipeline.SendAsync(queues.GetQueue("byte-budget"), TestPipeline.Chunk(batch, "c000", paths, etags: await TestPipeline.ETagsAsync(store, paths)));

        await using (var worker = await WorkerHost.StartAsync(settings, store, queues))
        {
            await TestPipeline.EventuallyAsync(() => Task.FromResult(queues.Queue("byte-budget").CompletedCount == 1), Patience, "the message to be completed");
        }

        // A budget smaller than any image lets one through at a time (and never none).
        Assert.Equal(6, (await TestPipeline.LabelRecordsAsync(store, batch)).Count);
        Assert.Equal(1, store.MaxConcurrentDownloads(PipelineNames.IncomingContainer));
    }

    [Fact]
    public async Task RequestsThatCarryTheirImagesETagsAreLabeledWithoutALookUpPerImage()
    {
        var store = new InstrumentedBlobStore(Azurite.IsolatedStore());
        await TestModels.PublishAsync(store, TestModels.V1);
        var settings = WorkerHost.Settings("etags");
        var queues = WorkerHost.InProcessQueues(settings);
        string batch = TestPipeline.NewBatch("etags");
        string[] paths = await TestPipeline.UploadPhotosAsync(store, batch, 8);
        string[] etags = await TestPipeline.ETagsAsync(store, paths[..4]);
        var lookedUp = new System.Collections.Concurrent.ConcurrentBag<string>();
        store.Fail = call =>
        {
            if (call.Operation == "GetEntry" && call.Container == PipelineNames.IncomingContainer)
                lookedUp.Add(call.Name);
            return false;
        };
        LabelRequest listed = TestPipeline.Chunk(batch, "c000", paths[..4], etags: etags);
        LabelRequest bare = TestPipeline.Chunk(batch, "c001", paths[4..]);
        await TestPipeline.SendAsync(queues.GetQueue("etags"), listed, bare);

        await using (var worker = await WorkerHost.StartAsync(settings, store, queues))
        {
            await TestPipeline.EventuallyAsync(() => Task.FromResult(queues.Queue("etags").CompletedCount == 2), Patience, "both messages to be completed");
        }

        List<LabelRecord> records = await TestPipeline.LabelRecordsAsync(store, batch);
        Assert.Equal(8, records.Count);
        Assert.Equal(paths[4..].Order(StringComparer.Ordinal), lookedUp.Order(StringComparer.Ordinal));
        Assert.Equal(etags, paths[..4].Select(p => records.Single(r => r.Image.Path == p).Image.ETag));
    }

    [Fact]
    public async Task ImagesListedWithoutARecordAreLabeledWithoutARecordLookUpAndAStaleListingWritesNoDuplicate()
    {
        var store = new InstrumentedBlobStore(Azurite.IsolatedStore());
        await TestModels.PublishAsync(store, TestModels.V1);
        var settings = WorkerHost.Settings("unrecorded");
        var queues = WorkerHost.InProcessQueues(settings);
        string batch = TestPipeline.NewBatch("unrec");
        string[] paths = await TestPipeline.UploadPhotosAsync(store, batch, 6);
        string[] etags = await TestPipeline.ETagsAsync(store, paths);

        // First round: paths[0..2] labeled the usual way, so they have records.
        await TestPipeline.SendAsync(queues.GetQueue("unrecorded"), TestPipeline.Chunk(batch, "c000", paths[..2], etags: etags[..2]));
        await using (var worker = await WorkerHost.StartAsync(settings, store, queues))
        {
            await TestPipeline.EventuallyAsync(() => Task.FromResult(queues.Queue("unrecorded").CompletedCount == 1), Patience, "the first message to be completed");

            // Then a chunk listed when none of its images had a record: stale for paths[0..2], true for the rest.
            var lookedUp = new System.Collections.Concurrent.ConcurrentBag<string>();
            store.Fail = call =>
            {
                if (call.Operation == "Download" && call.Container == LabelPaths.LabelsContainer)
                    lookedUp.Add(call.Name);
                return false;
            };
            LabelRequest listed = TestPipeline.Chunk(batch, "c001", paths, etags: etags, recorded: [.. paths.Select(_ => false)]);
            await TestPipeline.SendAsync(queues.GetQueue("unrecorded"), listed);
            await TestPipeline.EventuallyAsync(() => Task.FromResult(queues.Queue("unrecorded").CompletedCount == 2), Patience, "the listed chunk to be completed");

            // Only the two stale ones were read, after their conditional create failed.
            Assert.Equal(paths[..2].Select(p => TestPipeline.RecordName(batch, p)).Order(StringComparer.Ordinal), lookedUp.Order(StringComparer.Ordinal));
        }

        Assert.Equal(6, (await TestPipeline.LabelRecordsAsync(store, batch)).Count);
        Assert.All(paths, path => Assert.Equal(1, store.WritesOf(LabelPaths.LabelsContainer, TestPipeline.RecordName(batch, path))));
        var marker = await store.DownloadAsync(PipelineNames.RunsContainer, PipelineNames.ChunkDoneBlob(batch, "c001"));
        ChunkDone done = ContractSerializer.FromBinary<ChunkDone>(marker!.Content);
        Assert.Equal((6, 4, 2), (done.Images, done.Labeled, done.AlreadyLabeled));
    }

    [Fact]
    public async Task ChunkSentByReferenceIsLabeledFromItsRequestBlobAndOneWithoutItsBlobIsDeadLettered()
    {
        var store = Azurite.IsolatedStore();
        await TestModels.PublishAsync(store, TestModels.V1);
        var settings = WorkerHost.Settings("by-reference");
        var queues = WorkerHost.InProcessQueues(settings);
        string batch = TestPipeline.NewBatch("byref");
        string[] paths = await TestPipeline.UploadPhotosAsync(store, batch, 5);
        string[] etags = await TestPipeline.ETagsAsync(store, paths);
        var file = new ChunkRequestFile(batch, "c000", PipelineNames.IncomingContainer, LabelItem.FromParallelLists(paths, etags, null));
        await store.UploadAsync(PipelineNames.RunsContainer, PipelineNames.ChunkRequestBlob(batch, "c000"), BinaryData.FromBytes(file.ToUtf8Json()));
        LabelRequest stored = TestPipeline.Chunk(batch, "c000", []) with { PathsInChunkRequest = true };
        LabelRequest lost = TestPipeline.Chunk(batch, "c001", []) with { PathsInChunkRequest = true };
        await TestPipeline.SendAsync(queues.GetQueue("by-reference"), stored, lost);

        await using (var worker = await WorkerHost.StartAsync(settings, store, queues))
        {
            await TestPipeline.EventuallyAsync(() => Task.FromResult(queues.Queue("by-reference").Log.Count == 2), Patience, "both messages to be settled");
        }

        RecordingQueue queue = queues.Queue("by-reference");
        Assert.Equal([Settlement.Completed], queue.Of(TestPipeline.Message(stored).MessageId));
        var dead = Assert.Single(await DeadLettersAsync(queues.GetQueue("by-reference")));
        Assert.Equal(TestPipeline.Message(lost).MessageId, dead.MessageId);
        Assert.Contains($"runs/{PipelineNames.ChunkRequestBlob(batch, "c001")}, which does not exist", dead.DeadLetterReason, StringComparison.Ordinal);
        List<LabelRecord> records = await TestPipeline.LabelRecordsAsync(store, batch);
        Assert.Equal(paths.Order(StringComparer.Ordinal), records.Select(r => r.Image.Path).Order(StringComparer.Ordinal));
        Assert.Equal(etags, paths.Select(p => records.Single(r => r.Image.Path == p).Image.ETag));
        var marker = await store.DownloadAsync(PipelineNames.RunsContainer, PipelineNames.ChunkDoneBlob(batch, "c000"));
        Assert.Equal(5, ContractSerializer.FromBinary<ChunkDone>(marker!.Content).Labeled);
        Assert.Null(await store.GetEntryAsync(PipelineNames.RunsContainer, PipelineNames.ChunkDoneBlob(batch, "c001")));
    }

    [Fact]
    public async Task FailingStoreAbandonsTheMessageWhichSucceedsOnRedelivery()
    {
        var store = new InstrumentedBlobStore(Azurite.IsolatedStore());
        await TestModels.PublishAsync(store, TestModels.V1);
        var settings = WorkerHost.Settings("flaky");
        var queues = WorkerHost.InProcessQueues(settings);
        string batch = TestPipeline.NewBatch("flaky");
        string[] paths = await TestPipeline.UploadPhotosAsync(store, batch, 6);
        LabelRequest healthy = TestPipeline.Chunk(batch, "c000", paths[..3]);
        LabelRequest unlucky = TestPipeline.Chunk(batch, "c001", paths[3..]);

        // The first attempt to write one image's label record fails, as a throttled account would.
        string victim = TestPipeline.RecordName(batch, paths[4]);
        int failures = 0;
        store.Fail = call => call.Operation == "CreateIfAbsent" && call.Container == LabelPaths.LabelsContainer && call.Name == victim
            && Interlocked.Increment(ref failures) == 1;
        await TestPipeline.SendAsync(queues.GetQueue("flaky"), healthy, unlucky);

        await using (var worker = await WorkerHost.StartAsync(settings, store, queues))
        {
            await TestPipeline.EventuallyAsync(() => Task.FromResult(queues.Queue("flaky").CompletedCount == 2), Patience, "both messages to be completed");
        }

        RecordingQueue queue = queues.Queue("flaky");
        Assert.Equal([Settlement.Completed], queue.Of(TestPipeline.Message(healthy).MessageId));
        Assert.Equal([Settlement.Abandoned, Settlement.Completed], queue.Of(TestPipeline.Message(unlucky).MessageId));
        Assert.Equal(1, store.Faults);
        Assert.Equal(6, (await TestPipeline.LabelRecordsAsync(store, batch)).Count);
        Assert.All(paths, path => Assert.Equal(1, store.WritesOf(LabelPaths.LabelsContainer, TestPipeline.RecordName(batch, path))));
        Assert.Equal(["c000", "c001"], (await TestPipeline.MarkersAsync(store, batch)).Select(m => m.Chunk).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task StoppingTheHostMidRunLosesNothingAndARestartLabelsTheRestExactlyOnce()
    {
        var store = new InstrumentedBlobStore(Azurite.IsolatedStore());
        await TestModels.PublishAsync(store, TestModels.V1);
        string queueName = Azurite.QueueName("restart");
        var settings = WorkerHost.Settings(queueName);
        settings["Worker:MaxMessagesPerReceive"] = "4";
        // Few concurrent reads, so the slow downloads below really slow the run.
        settings["Worker:ReadParallelism"] = "2";
        var queues = WorkerHost.StorageQueues(settings);
        string batch = TestPipeline.NewBatch("restart");
        string[] paths = await TestPipeline.UploadPhotosAsync(store, batch, 64);
        LabelRequest[] chunks = Enumerable.Range(0, 8).Select(i => TestPipeline.Chunk(batch, $"c{i:D3}", paths[(i * 8)..((i + 1) * 8)])).ToArray();
        await TestPipeline.SendAsync(queues.GetQueue(queueName), chunks);

        // Slow downloads make a round outlast the one-second shutdown timeout, so the stop lands mid-run.
        store.DownloadDelay = TimeSpan.FromMilliseconds(60);
        var first = await WorkerHost.StartAsync(settings, store, queues, shutdownTimeout: TimeSpan.FromSeconds(1));
        await TestPipeline.EventuallyAsync(async () => (await TestPipeline.LabelRecordsAsync(store, batch)).Count >= 4, Patience, "the first records");
        await first.DisposeAsync();
        int labeledBeforeRestart = (await TestPipeline.LabelRecordsAsync(store, batch)).Count;
        Assert.InRange(labeledBeforeRestart, 4, 63);
        Assert.True(queues.Queue(queueName).CompletedCount < 8, "the stop should have come before every message was done");

        store.DownloadDelay = TimeSpan.Zero;
        await using (var second = await WorkerHost.StartAsync(settings, store, queues))
        {
            await TestPipeline.EventuallyAsync(() => Task.FromResult(queues.Queue(queueName).CompletedCount == 8), Patience, "every message to be completed after the restart");
        }

        Assert.Equal(64, (await TestPipeline.LabelRecordsAsync(store, batch)).Count);
        // Each record written once; a write the stop cancelled in flight may have landed without its answer, and
        // then the restart finds the record and writes nothing.
        Assert.All(paths, path =>
        {
            string record = TestPipeline.RecordName(batch, path);
            int writes = store.WritesOf(LabelPaths.LabelsContainer, record);
            Assert.True(writes == 1 || writes == 0 && store.InterruptedWritesOf(LabelPaths.LabelsContainer, record) > 0,
                $"{record}: {writes} completed write(s), {store.InterruptedWritesOf(LabelPaths.LabelsContainer, record)} interrupted");
        });
        Assert.Equal(8, (await TestPipeline.MarkersAsync(store, batch)).Count);
    }

    [Fact]
    public async Task RenewsLocksWhileARunOutlastsTheLockSoTheMessageIsNotDeliveredTwice()
    {
        var store = new InstrumentedBlobStore(Azurite.IsolatedStore()) { DownloadDelay = TimeSpan.FromMilliseconds(300) };
        await TestModels.PublishAsync(store, TestModels.V1);
        var settings = WorkerHost.Settings("renew");
        settings["Messaging:LockDuration"] = "00:00:02";
        settings["Worker:LockRenewInterval"] = "00:00:00.500";
        var queues = WorkerHost.InProcessQueues(settings);
        string batch = TestPipeline.NewBatch("renew");
        string[] paths = await TestPipeline.UploadPhotosAsync(store, batch, 16);
        LabelRequest request = TestPipeline.Chunk(batch, "c000", paths);
        await TestPipeline.SendAsync(queues.GetQueue("renew"), request);

        // 16 downloads of 300 ms, two at a time: the run takes at least 2.4 s, longer than the 2 s lock.
        await using (var worker = await WorkerHost.StartAsync(settings, store, queues))
        {
            await TestPipeline.EventuallyAsync(() => Task.FromResult(queues.Queue("renew").CompletedCount == 1), Patience, "the message to be completed");

            // Had the lock lapsed mid-run, the queue would have handed the message out again (delivery 2), and the
            // first run's complete would have failed: the one settlement recorded would be the second delivery's.
            await Task.Delay(TimeSpan.FromSeconds(2.5));
        }

        var settled = Assert.Single(queues.Queue("renew").Log);
        Assert.Equal((Settlement.Completed, 1), (settled.Settlement, settled.DeliveryCount));
        Assert.Equal(16, (await TestPipeline.LabelRecordsAsync(store, batch)).Count);
    }

    [Fact]
    public async Task SwapsToANewlyPromotedModelBetweenBatchesAndFreesTheOldOne()
    {
        var store = Azurite.IsolatedStore();
        await TestModels.PublishAsync(store, TestModels.V1);
        var settings = WorkerHost.Settings("swap");
        var queues = WorkerHost.InProcessQueues(settings);
        string before = TestPipeline.NewBatch("before"), after = TestPipeline.NewBatch("after");
        string[] first = await TestPipeline.UploadPhotosAsync(store, before, 3);
        string[] second = await TestPipeline.UploadPhotosAsync(store, after, 3);

        await using var worker = await WorkerHost.StartAsync(settings, store, queues);
        var models = worker.Service<ModelHolder>();
        await TestPipeline.SendAsync(queues.GetQueue("swap"), TestPipeline.Chunk(before, "c000", first));
        await TestPipeline.EventuallyAsync(() => Task.FromResult(queues.Queue("swap").CompletedCount == 1), Patience, "the first batch");
        LoadedModel old = models.Current!;

        await TestModels.PublishAsync(store, TestModels.V2);
        await TestPipeline.EventuallyAsync(() => Task.FromResult(models.CurrentVersion == "v2"), Patience, "the worker to load v2");
        Assert.True(old.IsDisposed, "the swapped-out network should be disposed");
        await TestPipeline.SendAsync(queues.GetQueue("swap"), TestPipeline.Chunk(after, "c000", second));
        await TestPipeline.EventuallyAsync(() => Task.FromResult(queues.Queue("swap").CompletedCount == 2), Patience, "the second batch");

        Assert.All(await TestPipeline.LabelRecordsAsync(store, before), r => Assert.Equal("v1", r.Model.Version));
        Assert.All(await TestPipeline.LabelRecordsAsync(store, after), r => Assert.Equal("v2", r.Model.Version));
    }

    private static async Task<List<ReceivedMessage>> DeadLettersAsync(IWorkQueue queue)
    {
        var messages = new List<ReceivedMessage>();
        await foreach (ReceivedMessage message in queue.PeekDeadLettersAsync(32))
            messages.Add(message);
        return messages;
    }

    /// <summary>Spans of the worker's activity source, for the duration of a test.</summary>
    private sealed class SpanRecorder : IDisposable
    {
        private readonly ActivityListener listener;
        private readonly List<Activity> completed = [];

        public SpanRecorder()
        {
            listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == WorkerTelemetry.SourceName,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = activity =>
                {
                    lock (completed)
                        completed.Add(activity);
                },
            };
            ActivitySource.AddActivityListener(listener);
        }

        public IReadOnlyList<Activity> Completed
        {
            get
            {
                lock (completed)
                    return [.. completed];
            }
        }

        public void Dispose() => listener.Dispose();
    }

    /// <summary>The sum of one counter of the worker's meter over a test.</summary>
    private sealed class CounterRecorder : IDisposable
    {
        private readonly MeterListener listener = new();
        private long total;

        public CounterRecorder(string instrument)
        {
            listener.InstrumentPublished = (published, l) =>
            {
                if (published.Meter.Name == WorkerTelemetry.MeterName && published.Name == instrument)
                    l.EnableMeasurementEvents(published);
            };
            listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref total, value));
            listener.Start();
        }

        public long Total => Interlocked.Read(ref total);

        public void Dispose() => listener.Dispose();
    }
}
