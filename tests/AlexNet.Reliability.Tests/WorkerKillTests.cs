using AlexNet.Testing;
using System.Diagnostics;
using System.Globalization;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Storage;
using AlexNet.Reliability.Tests.Fixtures;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace AlexNet.Reliability.Tests;

/// <summary>
/// The real worker process (src/AlexNet.Pipeline.Worker, configured by environment variables on Storage Queues)
/// killed with SIGKILL mid-batch, again and again, then restarted: no shutdown code runs, locks are simply left to
/// expire. Every image must end with exactly one record and every message completed.
/// </summary>
public sealed class WorkerKillTests(ITestOutputHelper output)
{
    private const int ChunkSize = 10;
    private static readonly TimeSpan LockDuration = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task KillingTheWorkerProcessMidBatchRepeatedlyLosesNothingAndDuplicatesNothing()
    {
        int images = Soak.Int("KILL_IMAGES", ci: 300, soak: 3000);
        int kills = Soak.Int("KILLS", ci: 3, soak: 10);
        var random = new Random(kills * 7919 + images);

        await using var azurite = await PrivateAzurite.StartAsync();
        var store = new AzureBlobStore(new BlobServiceClient(azurite.ConnectionString), NullLogger<AzureBlobStore>.Instance);
        var queueOptions = new WorkQueueOptions { LockDuration = LockDuration, MaxDeliveryCount = 10, PollInterval = TimeSpan.FromMilliseconds(100) };
        var queueClient = new QueueServiceClient(azurite.ConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var queue = new StorageWorkQueue(queueClient, PipelineNames.LabelQueue, queueOptions, TimeProvider.System, NullLogger<StorageWorkQueue>.Instance);

        await TestModels.PromoteV1Async(store);
        string batch = Uploads.NewBatch("kill");
        string[] names = await Uploads.UploadAsync(store, batch, images);
        var messages = Uploads.Chunks(batch, names, ChunkSize);
        await Uploads.SendAsync(queue, messages);

        // Deliberate poison among the work: it must be the one dead letter at the end.
        await queue.SendAsync([new OutgoingMessage("poison-1", BinaryData.FromString("not a label request"), LabelRequest.Subject)]);

        var watch = new RecordWatch(store, batch);
        string log = Path.Combine(Path.GetTempPath(), $"alexnet-kill-{batch}.log");
        var clock = Stopwatch.StartNew();
        var killedAt = new List<int>();
        try
        {
            for (int life = 0; life < kills; life++)
            {
                // Each kill comes after a random part of what is left, so there is always work left for the next life,
                // and it lands while records are being written.
                await using var worker = WorkerProcess.Start(Environment(azurite, port: PrivateAzurite.AnyFreePort(), life), log);
                int before = await watch.CountAsync();
                int target = before + Math.Max(1, (int)((images - before) * (0.5 + 0.5 * random.NextDouble()) / (kills - life + 1)));
                await Soak.UntilAsync(
                    async () => worker.HasExited || await watch.CountAsync() >= target,
                    TimeSpan.FromSeconds(120), $"life {life} to pass {target} records", () => Tail(log), TimeSpan.FromMilliseconds(100));
                Assert.False(worker.HasExited, $"the worker exited by itself in life {life}: {await Tail(log)}");
                await worker.KillAsync();
                killedAt.Add(await watch.CountAsync());
            }

            await using (var last = WorkerProcess.Start(Environment(azurite, port: PrivateAzurite.AnyFreePort(), kills), log))
            {
                await Soak.UntilAsync(
                    async () => await watch.CountAsync() == images && await MessagesLeftAsync(queueClient, PipelineNames.LabelQueue) == 0,
                    TimeSpan.FromSeconds(60 + images / 5), "every image labeled and the queue empty after the last restart",
                    async () => $"{await watch.CountAsync()} records, {await MessagesLeftAsync(queueClient, PipelineNames.LabelQueue)} messages left; {await Tail(log)}");
            }
        }
        catch
        {
            output.WriteLine($"worker log: {log}");
            throw;
        }
        double seconds = clock.Elapsed.TotalSeconds;

        AuditResult audit = await RecordAudit.RunAsync(store, batch, names);
        await watch.CountAsync();
        int rewritten = watch.Rewritten;
        var deadLetters = new List<ReceivedMessage>();
        await foreach (ReceivedMessage message in queue.PeekDeadLettersAsync(32))
            deadLetters.Add(message);
        var markers = new List<string>();
        await foreach (BlobEntry entry in store.ListAsync(PipelineNames.RunsContainer, PipelineNames.ChunkPrefix(batch)))
            markers.Add(entry.Name);

        Figures.From("worker process killed mid-batch", kills + 1, kills, audit with { Duplicates = audit.Duplicates + rewritten }, seconds,
            $"SIGKILL at {string.Join("/", killedAt.Select(k => k.ToString(CultureInfo.InvariantCulture)))} records; {messages.Count} messages of {ChunkSize}; " +
            $"dead letters: {deadLetters.Count} (the deliberate poison)").Report(output);
        // Work cut by a kill comes back: a later life finds some of its images labeled already.
        int redone = AlreadyLabeled(await File.ReadAllTextAsync(log));
        output.WriteLine($"images found already labeled on redelivery: {redone}");
        File.Delete(log);

        audit.AssertClean();
        Assert.Equal(0, rewritten);
        Assert.Equal(kills, killedAt.Count);
        Assert.True(redone > 0, "no redelivered message found work of a killed life: the kills did not land mid-message");
        Assert.True(killedAt.All(k => k < images), "every kill should land before the batch was done");
        Assert.Equal(0, await MessagesLeftAsync(queueClient, PipelineNames.LabelQueue));
        ReceivedMessage poison = Assert.Single(deadLetters);
        Assert.Equal("poison-1", poison.MessageId);
        Assert.Equal(messages.Count, markers.Count(m => m.EndsWith(".done.json", StringComparison.Ordinal)));
    }

    /// <summary>The worker as a container runs it: everything from environment variables, port and queue its own.</summary>
    private static Dictionary<string, string> Environment(PrivateAzurite azurite, int port, int life) => new()
    {
        ["HTTP_PORTS"] = port.ToString(CultureInfo.InvariantCulture),
        ["Storage__Backend"] = "azure",
        ["Storage__ConnectionString"] = azurite.ConnectionString,
        ["Messaging__Backend"] = "storagequeue",
        ["Messaging__LockDuration"] = LockDuration.ToString("c", CultureInfo.InvariantCulture),
        ["Messaging__MaxDeliveryCount"] = "10",
        ["Messaging__PollInterval"] = "00:00:00.200",
        ["Messaging__LabelQueue"] = PipelineNames.LabelQueue,
        ["Worker__TrainingEnabled"] = "false",
        ["Worker__Device"] = "cpu",
        ["Worker__BatchSize"] = "32",
        ["Worker__MaxMessagesPerReceive"] = "4",
        ["Worker__ReceiveWait"] = "00:00:00.500",
        ["Worker__LockRenewInterval"] = "00:00:01",
        ["Worker__ModelRefreshInterval"] = "00:00:05",
        ["Worker__DecodeParallelism"] = "2",
        ["Worker__WriteParallelism"] = "8",
        ["Worker__Name"] = $"worker-life-{life}",
        // No faults, only slow storage and queue calls: a batch's record writes, chunk markers and completions then
        // take most of a second instead of a few milliseconds, so a kill triggered by the record count lands while a
        // message has some records and is not yet completed (the case the redelivery assertion needs).
        ["Chaos__Enabled"] = "true",
        ["Chaos__FaultRate"] = "0",
        ["Chaos__LatencyRate"] = "0.5",
        ["Chaos__Latency"] = "00:00:00.150",
        ["Logging__LogLevel__Default"] = "Warning",
        ["Logging__LogLevel__AlexNet.Pipeline.Worker"] = "Information",
        ["Logging__LogLevel__Azure.Core"] = "Error",
    };

    private static async Task<int> MessagesLeftAsync(QueueServiceClient client, string queue) =>
        (await client.GetQueueClient(queue).GetPropertiesAsync()).Value.ApproximateMessagesCount;

    // The label loop's batch line: "Batch b: 4 message(s), 40 image(s): 12 labeled, 28 already labeled, ...".
    private static int AlreadyLabeled(string log) =>
        System.Text.RegularExpressions.Regex.Matches(log, @"(\d+) already labeled").Sum(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));

    private static async Task<string> Tail(string log)
    {
        if (!File.Exists(log))
            return "(no worker log)";
        string[] lines;
        await using (var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        using (var reader = new StreamReader(stream))
            lines = (await reader.ReadToEndAsync()).Split('\n');
        return "worker log tail:\n" + string.Join('\n', lines.TakeLast(25));
    }
}

/// <summary>
/// The records of a batch as seen at every poll, with the ETag each had when first seen: a record whose ETag changes
/// later was written again. (Azurite resets a blob's creation time on overwrite, so the ETag is the witness.)
/// </summary>
internal sealed class RecordWatch(IBlobStore store, string batch)
{
    private readonly Dictionary<(string, string), string> firstSeen = [];
    private readonly HashSet<(string, string)> rewritten = [];

    public int Rewritten => rewritten.Count;

    /// <summary>Label and rejected records of the batch now.</summary>
    public async Task<int> CountAsync()
    {
        int count = 0;
        foreach (string container in new[] { LabelPaths.LabelsContainer, LabelPaths.RejectedContainer })
        {
            await foreach (BlobEntry entry in store.ListAsync(container, batch + "/"))
            {
                if (LabelPaths.IsBatchFile(batch, entry.Name))
                    continue; // summary.json and the other batch files are rewritten by design
                count++;
                if (!firstSeen.TryAdd((container, entry.Name), entry.ETag) && firstSeen[(container, entry.Name)] != entry.ETag)
                    rewritten.Add((container, entry.Name));
            }
        }
        return count;
    }
}
