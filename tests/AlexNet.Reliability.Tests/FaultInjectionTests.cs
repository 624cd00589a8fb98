using AlexNet.Testing;
using System.Diagnostics;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Resilience;
using AlexNet.Reliability.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace AlexNet.Reliability.Tests;

/// <summary>
/// The label worker with chaos on every storage and queue call (ChaosBlobStore, ChaosWorkQueue at 10% faults and 10%
/// latency, half the faults after the call took effect), against the same run without faults. Faults here are what got
/// past the SDK's retries; the product's answer is: the engine marks the image Failed, the worker abandons the message,
/// a later delivery finishes it, and the idempotent writes make the repeats harmless.
/// </summary>
public sealed class FaultInjectionTests(ITestOutputHelper output)
{
    // Soak knobs: ALEXNET_SOAK_FAULT_PERMILLE and ALEXNET_SOAK_FAULT_CHUNK measure other rates and chunk sizes.
    private static readonly double Rate = Soak.Int("FAULT_PERMILLE", ci: 100, soak: 100) / 1000.0;
    private const int Seed = 20240917;

    // Every delivery re-reads each image of its message and one fault fails the whole message, so a message of k
    // images gets through a delivery with probability about 0.81^k: chunks of 4 need 2-3 deliveries on average here.
    private static readonly int ChunkSize = Soak.Int("FAULT_CHUNK", ci: 4, soak: 4);

    // Service Bus's default is 10; at 10% faults after retries a chunk of 4 exhausts 10 deliveries about 1% of the time.
    private const int MaxDeliveryCount = 30;

    private sealed record Run(AuditResult Audit, double Seconds, ChaosStatistics Chaos, int Messages, int Abandoned, int MaxDelivery, int DeadLetters);

    [Fact]
    public async Task TenPercentFaultsAndLatencyOnEveryStorageAndQueueCallLoseNothingAndDuplicateNothing()
    {
        int images = Soak.Int("FAULT_IMAGES", ci: 240, soak: 3000);

        await using var account = new IsolatedAccount(WorkerHosts.Queues(MaxDeliveryCount));
        await TestModels.PromoteV1Async(account.Store);
        Run clean = await RunAsync(account, images, chaos: false);
        Run faulty = await RunAsync(account, images, chaos: true);

        foreach (var (name, run) in new[] { ("fault-free", clean), ("faults", faulty) })
        {
            output.WriteLine($"{name} at {Rate * 100:0.#}%: {run.Audit.Line}; {run.Messages} messages, {run.Abandoned} abandoned, max delivery {run.MaxDelivery}, " +
                $"{run.DeadLetters} dead letters; {run.Seconds:F1} s, {images / run.Seconds:F1} img/s; chaos: {run.Chaos}");
        }
        output.WriteLine("operation            calls  faults  lost responses  delays");
        foreach (ChaosOperationStatistics op in faulty.Chaos.Snapshot())
            output.WriteLine($"{op.Operation,-20} {op.Calls,5}  {op.Faults,6}  {op.LostResponses,14}  {op.Delays,6}");

        double ratio = clean.Seconds / faulty.Seconds;
        Figures.From($"faults {Rate * 100:0.#}% + latency {Rate * 100:0.#}% (worker, chunks of {ChunkSize})", 2, faulty.Chaos.Injected, faulty.Audit, faulty.Seconds,
            $"fault-free {images / clean.Seconds:F1} img/s, with faults {images / faulty.Seconds:F1} img/s (x{ratio:F2}); " +
            $"{faulty.Chaos.Delays} delays; {faulty.Abandoned} abandons, max delivery {faulty.MaxDelivery}").Report(output);

        clean.Audit.AssertClean();
        faulty.Audit.AssertClean();
        Assert.Equal((0, 0), (clean.DeadLetters, faulty.DeadLetters));
        Assert.Equal(0, clean.Chaos.Injected);

        // The faults must have bitten where it matters: images failed, messages went back and came again.
        Assert.True(faulty.Chaos.Faults > 0 && faulty.Chaos.LostResponses > 0 && faulty.Chaos.Delays > 0, faulty.Chaos.ToString());
        Assert.True(faulty.Abandoned > 0, "no message was abandoned: the faults never reached the redelivery path");
        Assert.True(faulty.MaxDelivery > 1, "no message was delivered twice");
    }

    private static async Task<Run> RunAsync(IsolatedAccount account, int images, bool chaos)
    {
        int completedBefore = account.Queues.Completed, abandonedBefore = account.Queues.Abandoned;
        string batch = Uploads.NewBatch(chaos ? "chaos" : "clean");
        string[] names = await Uploads.UploadAsync(account.Store, batch, images);
        var messages = Uploads.Chunks(batch, names, ChunkSize);

        var settings = WorkerHosts.Settings(chaos ? "chaos-worker" : "clean-worker");
        WorkerHosts.AddChaos(settings, enabled: chaos, Rate, Seed);
        IHost host = await WorkerHosts.StartAsync(settings, account.Store, account.Queues, chaos: true);
        ChaosStatistics statistics = host.Services.GetRequiredService<ChaosInjector>().Statistics;
        try
        {
            var clock = Stopwatch.StartNew();
            await Uploads.SendAsync(account.Queues.GetQueue(PipelineNames.LabelQueue), messages);
            await Soak.UntilAsync(
                async () => account.Queues.Completed - completedBefore == messages.Count && await account.MessagesLeftAsync(PipelineNames.LabelQueue) == 0,
                TimeSpan.FromSeconds(60 + images / 2),
                "every message to be completed",
                async () => $"{account.Queues.Completed - completedBefore} of {messages.Count} completed, {await account.DeadLettersAsync(PipelineNames.LabelQueue)} dead letters; chaos: {statistics}");
            double seconds = clock.Elapsed.TotalSeconds;

            AuditResult audit = await RecordAudit.RunAsync(account.Store, batch, names, account.Store);
            for (int i = 0; i < messages.Count; i++)
            {
                string marker = PipelineNames.ChunkDoneBlob(batch, $"c{i:D5}");
                Assert.True(account.Store.WritesOf(PipelineNames.RunsContainer, marker) == 1, $"chunk marker {marker} written {account.Store.WritesOf(PipelineNames.RunsContainer, marker)} times");
            }
            return new Run(audit, seconds, statistics, messages.Count, account.Queues.Abandoned - abandonedBefore, account.Queues.MaxDeliveryCount,
                await account.DeadLettersAsync(PipelineNames.LabelQueue));
        }
        finally
        {
            await WorkerHosts.StopAsync(host);
        }
    }
}
