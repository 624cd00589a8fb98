using AlexNet.Testing;
using System.Text.Json;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Durable;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Metering;
using AlexNet.Pipeline.Orchestrations;
using AlexNet.Reliability.Tests.Fixtures;
using DurableTask.AzureStorage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace AlexNet.Reliability.Tests;

/// <summary>
/// What a batch costs in storage and queue requests: LabelBatch on the local durable engine and the label worker on
/// Azurite, every blob and queue request counted by kind (<see cref="CountingBlobStore"/>, <see cref="CountingWorkQueue"/>),
/// held to the bounds the design gives. The durable engine's own history and queues are not counted.
/// </summary>
public sealed class RequestsPerImageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ALabelBatchReadsEachImageOnceReadsNoRecordAndWritesEachRecordOnce()
    {
        const int Images = 40;
        const int ChunkSize = 16;
        const int Chunks = (Images + ChunkSize - 1) / ChunkSize;

        await using var account = new IsolatedAccount(WorkerHosts.Queues());
        await TestModels.PromoteV1Async(account.Store);
        string batch = Uploads.NewBatch("requests");
        string[] names = await Uploads.UploadAsync(account.Store, batch, Images);
        RequestCounter counter = account.Store.Counter;
        var queues = new CountingWorkQueueFactory(account.Queues, counter);

        var settings = WorkerHosts.Settings("requests-host");
        // The model is loaded at start; a refresh poll during the run would add reads that follow time, not images.
        settings["Worker:ModelRefreshInterval"] = "01:00:00";
        settings["Durable:ConnectionString"] = IsolatedAccount.SharedAzurite;
        settings["Durable:TaskHubName"] = "req" + account.Suffix;
        settings["Durable:PartitionCount"] = "1";
        settings["Durable:MaxQueuePollingInterval"] = "00:00:00.250";

        IHost host = await WorkerHosts.StartAsync(settings, account.Store, queues, durable: true, shutdownTimeout: TimeSpan.FromSeconds(5));
        try
        {
            int imageReadsBefore = account.Store.ReadsIn(PipelineNames.IncomingContainer);
            int recordReadsBefore = account.Store.ReadsIn(LabelPaths.LabelsContainer);
            RequestCounts before = counter.Snapshot();
            var client = host.Services.GetRequiredService<IOrchestrationClient>();
            Assert.True(await client.StartLabelBatchAsync(new LabelBatchInput(batch, ChunkSize: ChunkSize, PollSeconds: 1, ChunkTimeoutSeconds: 60)));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            OrchestrationStatus status = await ((LocalOrchestrationClient)client).WaitForCompletionAsync(batch, TimeSpan.FromMilliseconds(250), timeout.Token);
            RequestCounts run = counter.Snapshot() - before;
            Assert.True(status.State == OrchestrationState.Completed, $"{status.State} {status.FailureMessage}");
            var result = JsonSerializer.Deserialize<BatchResult>(status.OutputJson!, JsonSerializerOptions.Web)!;
            Assert.Equal((Images, Chunks, Images, 0, 0), (result.Images, result.Chunks, result.Labeled, result.Failed, result.Resends));
            int imageReads = account.Store.ReadsIn(PipelineNames.IncomingContainer) - imageReadsBefore;
            int recordReads = account.Store.ReadsIn(LabelPaths.LabelsContainer) - recordReadsBefore;
            output.WriteLine($"{Images} images in {Chunks} chunks: {run}; per image: {run.Per(Images)}; image reads {imageReads}, record reads {recordReads}");

            // The bounds, from the design of a fresh batch with no faults and no resends:
            // - the worker reads each image once: ListAndChunk listed its ETag, so no look-up precedes the conditional read;
            // - no record is read: the worker knows there is none (the listing said so), and the batch report reads the
            //   chunks' record files (BatchReport.WriteFromChunksAsync), not the records;
            // so blob reads outside runs/ are 1 per image. The rest of the reads are per chunk and per poll, in runs/:
            // the chunk request (ListAndChunk's check, SendChunks, the worker: 3), its records file (the report: 1) and its
            // done marker on each CheckChunks poll, which follows time, not images.
            Assert.Equal(Images, imageReads);
            Assert.Equal(1, account.Store.MostReadsOfOneIn(PipelineNames.IncomingContainer));
            Assert.Equal(0, recordReads);
            Assert.Equal(Chunks, Enumerable.Range(0, Chunks).Sum(i => account.Store.ReadsOf(PipelineNames.RunsContainer, PipelineNames.ChunkRecordsBlob(batch, PipelineNames.ChunkId(i)))));
            // Writes: each record once, per chunk its request, its records file and its done marker, and the report's
            // four files (labels.jsonl, review.jsonl, labels.csv, summary.json).
            Assert.True(run.Write <= Images + 3 * Chunks + 4, $"{run.Write} writes, over {Images} records + 3 x {Chunks} chunks + 4 report files");
            // No look-up per image: the listing carried every ETag. A delete per chunk: a stale done marker of an earlier plan.
            Assert.True(run.Head <= Chunks, $"{run.Head} look-ups for {Chunks} chunks");
            Assert.Equal(Chunks, (int)run.Delete);
            // One message per chunk, settled once.
            Assert.Equal(Chunks, (int)run.Send);
            Assert.Equal(Chunks, (int)run.Settle);
        }
        finally
        {
            await WorkerHosts.StopAsync(host);
            var hub = new AzureStorageOrchestrationServiceSettings
            {
                StorageAccountClientProvider = new StorageAccountClientProvider(IsolatedAccount.SharedAzurite),
                TaskHubName = settings["Durable:TaskHubName"]!,
            };
            await new AzureStorageOrchestrationService(hub).DeleteAsync();
        }
    }
}
