using AlexNet.Testing;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Durable;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Orchestrations;
using AlexNet.Reliability.Tests.Fixtures;
using DurableTask.AzureStorage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace AlexNet.Reliability.Tests;

/// <summary>
/// The whole labeling path in one host, as <c>alexnet pipeline</c> runs it: the local durable engine running
/// LabelBatch on Azurite and the real label worker loop on Storage Queues, restarted again and again while the fan-out
/// is under way. (LabelBatchOrchestrationTests.RestartingTheEngineDuringTheFanOutLosesNothing in Pipeline.Core.Tests
/// restarts the engine alone, beside a stand-in worker; here the worker restarts with it.)
/// </summary>
public sealed class OrchestrationRestartTests(ITestOutputHelper output)
{
    [Fact]
    public async Task RestartingThePipelineHostDuringTheFanOutCompletesEveryBatchWithEveryImage()
    {
        int perBatch = Soak.Int("RESTART_IMAGES", ci: 100, soak: 600);
        int restarts = Soak.Int("RESTARTS", ci: 5, soak: 10);
        const int Batches = 2;
        var random = new Random(restarts * 31 + perBatch);

        await using var account = new IsolatedAccount(WorkerHosts.Queues());
        await TestModels.PromoteV1Async(account.Store);
        string[] batches = [.. Enumerable.Range(0, Batches).Select(b => Uploads.NewBatch($"fanout{b}"))];
        var names = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (string batch in batches)
            names[batch] = await Uploads.UploadAsync(account.Store, batch, perBatch, seed: names.Count);
        int total = perBatch * Batches;

        var settings = WorkerHosts.Settings("pipeline-host");
        settings["Worker:MaxMessagesPerReceive"] = "2";
        settings["Durable:ConnectionString"] = IsolatedAccount.SharedAzurite;
        settings["Durable:TaskHubName"] = "rel" + account.Suffix;
        settings["Durable:PartitionCount"] = "2";
        settings["Durable:MaxQueuePollingInterval"] = "00:00:00.250";
        settings["Durable:LeaseAcquireInterval"] = "00:00:00.500";
        settings["Durable:MessageVisibilityTimeout"] = "00:00:05";

        var clock = Stopwatch.StartNew();
        IHost host = await WorkerHosts.StartAsync(settings, account.Store, account.Queues, durable: true, shutdownTimeout: TimeSpan.FromSeconds(5));
        var restartedAt = new List<string>();
        try
        {
            var client = host.Services.GetRequiredService<IOrchestrationClient>();
            foreach (string batch in batches)
                Assert.True(await client.StartLabelBatchAsync(new LabelBatchInput(batch, ChunkSize: 8, PollSeconds: 1, ChunksPerGroup: 3, ChunkTimeoutSeconds: 60, PollsPerHistory: 2)));

            for (int restart = 0; restart < restarts; restart++)
            {
                // Each restart comes after a random part of what is left, so some is always left for the next one;
                // a stop lets the round in progress finish, hence small rounds (two chunks of 8) for this test.
                int before = await LabelRecordsAsync(account, batches);
                if (before >= total)
                    break; // a graceful stop finished the last rounds: nothing is left to restart into
                int target = before + Math.Max(1, (int)((total - before) * (0.5 + 0.5 * random.NextDouble()) / (restarts - restart + 1)));
                await Soak.UntilAsync(async () => await LabelRecordsAsync(account, batches) >= target, TimeSpan.FromSeconds(120),
                    $"{target} label records before restart {restart + 1}", () => StateAsync(account, client, batches), TimeSpan.FromMilliseconds(100));
                var states = await Task.WhenAll(batches.Select(b => client.GetStatusAsync(b)));
                restartedAt.Add($"{await LabelRecordsAsync(account, batches)} ({string.Join("/", states.Select(s => s.State))})");
                Assert.Contains(states, s => s.State == OrchestrationState.Running);

                await WorkerHosts.StopAsync(host);
                host = await WorkerHosts.StartAsync(settings, account.Store, account.Queues, durable: true, shutdownTimeout: TimeSpan.FromSeconds(5));
                client = host.Services.GetRequiredService<IOrchestrationClient>();
            }

            var results = new List<BatchResult>();
            foreach (string batch in batches)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60 + total / 2));
                OrchestrationStatus status = await ((LocalOrchestrationClient)client).WaitForCompletionAsync(batch, TimeSpan.FromMilliseconds(250), timeout.Token);
                Assert.True(status.State == OrchestrationState.Completed, $"{batch}: {status.State} {status.FailureMessage} {status.CustomStatusJson}");
                results.Add(JsonSerializer.Deserialize<BatchResult>(status.OutputJson!, JsonSerializerOptions.Web)!);
            }
            double seconds = clock.Elapsed.TotalSeconds;

            var audits = new List<AuditResult>();
            foreach (string batch in batches)
                audits.Add(await RecordAudit.RunAsync(account.Store, batch, names[batch], account.Store));
            var combined = new AuditResult(
                audits.Sum(a => a.Images), audits.Sum(a => a.Labeled), audits.Sum(a => a.Rejected), audits.Sum(a => a.Lost), audits.Sum(a => a.Duplicates),
                new Dictionary<string, LabelRecord>(), new Dictionary<string, RejectedRecord>(), [.. audits.SelectMany(a => a.Problems)]);
            // Restarts that happened, each while a batch was running: the loop stops early when the last rounds finish
            // during a graceful stop, and a run that restarted nothing would prove nothing.
            Assert.True(restartedAt.Count >= 1, $"only {restartedAt.Count} of {restarts} restarts came while the fan-out ran");
            Figures.From($"pipeline host restarted during fan-out ({Batches} batches)", restartedAt.Count + 1, restartedAt.Count, combined, seconds,
                $"restarts at {string.Join(", ", restartedAt)} label records; results: {string.Join("; ", results.Select(r => $"{r.Images} images, {r.Chunks} chunks, {r.Labeled} labeled, {r.Resends} resends"))}")
                .Report(output);

            combined.AssertClean();
            Assert.All(results, r => Assert.Equal((perBatch, perBatch, 0, 0), (r.Images, r.Labeled, r.Rejected, r.Failed)));
            foreach (string batch in batches)
            {
                int chunks = results.Single(r => r.Batch == batch).Chunks;
                for (int i = 0; i < chunks; i++)
                    Assert.Equal(1, account.Store.WritesOf(PipelineNames.RunsContainer, PipelineNames.ChunkDoneBlob(batch, ChunkPlan.ChunkId(i))));
            }
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

    private static async Task<string> StateAsync(IsolatedAccount account, IOrchestrationClient client, string[] batches)
    {
        var lines = new List<string> { $"{await LabelRecordsAsync(account, batches)} label records, {await account.MessagesLeftAsync(PipelineNames.LabelQueue)} label requests queued" };
        foreach (string batch in batches)
        {
            OrchestrationStatus status = await client.GetStatusAsync(batch);
            lines.Add($"{batch}: {status.State} {status.CustomStatusJson} {status.FailureMessage}");
        }
        return string.Join("\n", lines);
    }

    private static async Task<int> LabelRecordsAsync(IsolatedAccount account, string[] batches)
    {
        int count = 0;
        foreach (string batch in batches)
        {
            await foreach (var entry in account.Store.ListAsync(LabelPaths.LabelsContainer, batch + "/"))
            {
                if (!LabelPaths.IsBatchFile(batch, entry.Name))
                    count++;
            }
        }
        return count;
    }
}
