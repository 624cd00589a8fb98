using System.Collections.Concurrent;
using AlexNet.Pipeline.Hosting;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Resilience;
using AlexNet.Pipeline.Storage;
using Azure;
using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AlexNet.Reliability.Tests;

/// <summary>The chaos decorators themselves: rates, reproducibility, the kinds of faults, and faults after the call took effect.</summary>
public sealed class ChaosDecoratorTests : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("alexnet-chaos-");

    [Fact]
    public async Task SameSeedFaultsTheSameCallsWhateverTheOrderAndThreads()
    {
        string[] targets = [.. Enumerable.Range(0, 2000).Select(i => $"blob-{i}")];

        var forwards = await FaultedAsync(seed: 7, targets, parallel: false);
        var shuffled = await FaultedAsync(seed: 7, [.. targets.Reverse()], parallel: true);
        var otherSeed = await FaultedAsync(seed: 8, targets, parallel: false);

        Assert.Equal(forwards.Order(StringComparer.Ordinal), shuffled.Order(StringComparer.Ordinal));
        Assert.NotEqual(forwards.Order(StringComparer.Ordinal), otherSeed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task FaultsAndDelaysComeAtTheConfiguredRate()
    {
        var chaos = new ChaosInjector(new ChaosOptions { FaultRate = 0.1, LatencyRate = 0.1, Latency = TimeSpan.FromMilliseconds(1), Seed = 3 }, TimeProvider.System);
        var store = new ChaosBlobStore(new LocalFolderBlobStore(folder.FullName), chaos);
        int thrown = 0;

        await Parallel.ForEachAsync(Enumerable.Range(0, 4000), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
        {
            try
            {
                await store.GetEntryAsync("labels", $"missing-{i}.json");
            }
            catch (Exception error) when (error is RequestFailedException or IOException or AggregateException)
            {
                Interlocked.Increment(ref thrown);
            }
        });

        ChaosOperationStatistics calls = Assert.Single(chaos.Statistics.Snapshot());
        Assert.Equal(("blob.GetEntry", 4000L), (calls.Operation, calls.Calls));
        Assert.Equal(thrown, calls.Faults + calls.LostResponses);
        Assert.InRange(thrown, 320, 480);
        Assert.InRange(calls.Faults, 120, 280);
        Assert.InRange(calls.LostResponses, 120, 280);
        Assert.InRange(calls.Delays, 320, 480);
    }

    [Fact]
    public async Task LostResponseMeansTheWriteHappenedAndAFaultMeansItDidNot()
    {
        var inner = new LocalFolderBlobStore(folder.FullName);
        var lost = new ChaosBlobStore(inner, new ChaosInjector(new ChaosOptions { FaultRate = 1, LostResponseShare = 1, LatencyRate = 0 }, TimeProvider.System));
        var failed = new ChaosBlobStore(inner, new ChaosInjector(new ChaosOptions { FaultRate = 1, LostResponseShare = 0, LatencyRate = 0 }, TimeProvider.System));

        await Assert.ThrowsAnyAsync<Exception>(() => lost.CreateIfAbsentAsync("labels", "a.json", BinaryData.FromString("{}")));
        await Assert.ThrowsAnyAsync<Exception>(() => failed.CreateIfAbsentAsync("labels", "b.json", BinaryData.FromString("{}")));

        Assert.NotNull(await inner.GetEntryAsync("labels", "a.json"));
        Assert.Null(await inner.GetEntryAsync("labels", "b.json"));
    }

    [Fact]
    public async Task FaultsAreTheTransientKindsTheStorageAndServiceBusSdksThrow()
    {
        var chaos = new ChaosInjector(new ChaosOptions { FaultRate = 1, LatencyRate = 0, Seed = 11 }, TimeProvider.System);
        var storage = new ConcurrentBag<Exception>();
        var serviceBus = new ConcurrentBag<Exception>();
        for (int i = 0; i < 200; i++)
        {
            storage.Add(await Assert.ThrowsAnyAsync<Exception>(() => chaos.RunAsync(ChaosFaultFamily.Storage, "blob.Download", $"x{i}", _ => Task.CompletedTask)));
            serviceBus.Add(await Assert.ThrowsAnyAsync<Exception>(() => chaos.RunAsync(ChaosFaultFamily.ServiceBus, "queue.Complete", $"x{i}", _ => Task.CompletedTask)));
        }

        string Kind(Exception e) => e switch
        {
            RequestFailedException { Status: 503, ErrorCode: "ServerBusy" } => "503",
            RequestFailedException { Status: 500 } => "500",
            IOException => "io",
            AggregateException { InnerException: RequestFailedException { InnerException: IOException } } => "retries spent",
            _ => e.GetType().Name,
        };
        Assert.Equal(["500", "503", "io", "retries spent"], storage.Select(Kind).Distinct().Order(StringComparer.Ordinal));
        Assert.All(serviceBus, e => Assert.True(e is ServiceBusException { IsTransient: true }, e.ToString()));
        Assert.All(storage.Concat(serviceBus), e => Assert.StartsWith("chaos: ", e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task DisabledChaosPassesEveryCallThroughAndStillCountsThem()
    {
        var chaos = new ChaosInjector(new ChaosOptions { Enabled = false, FaultRate = 1, LatencyRate = 1, Latency = TimeSpan.FromMinutes(1) }, TimeProvider.System);
        var queue = new ChaosWorkQueue(new InProcessWorkQueue("q", new WorkQueueOptions(), TimeProvider.System), chaos);

        await queue.SendAsync([new OutgoingMessage("m1", BinaryData.FromString("hello"))]);
        var received = Assert.Single(await queue.ReceiveAsync(1, TimeSpan.FromSeconds(1)));
        await queue.CompleteAsync(received);

        Assert.Equal((3L, 0L), (chaos.Statistics.Calls, chaos.Statistics.Injected + chaos.Statistics.Delays));
    }

    [Fact]
    public void AddPipelineChaosWrapsTheConfiguredStoreAndQueues()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:Backend"] = "local",
            ["Storage:LocalRoot"] = folder.FullName,
            ["Messaging:Backend"] = "inprocess",
            ["Chaos:FaultRate"] = "0.05",
            ["Chaos:Seed"] = "42",
        });
        builder.AddPipelineStorage();
        builder.AddPipelineMessaging();
        builder.AddPipelineChaos();
        using IHost host = builder.Build();

        var store = Assert.IsType<ChaosBlobStore>(host.Services.GetRequiredService<IBlobStore>());
        Assert.IsType<LocalFolderBlobStore>(store.Inner);
        var queues = Assert.IsType<ChaosWorkQueueFactory>(host.Services.GetRequiredService<IWorkQueueFactory>());
        Assert.IsType<InProcessWorkQueueFactory>(queues.Inner);
        Assert.IsType<InProcessWorkQueue>(Assert.IsType<ChaosWorkQueue>(queues.GetQueue("label-requests")).Inner);
        Assert.Equal((0.05, 42), (host.Services.GetRequiredService<ChaosInjector>().Options.FaultRate, host.Services.GetRequiredService<ChaosInjector>().Options.Seed));
    }

    public void Dispose() => folder.Delete(recursive: true);

    private async Task<List<string>> FaultedAsync(int seed, IReadOnlyList<string> targets, bool parallel)
    {
        var chaos = new ChaosInjector(new ChaosOptions { FaultRate = 0.1, LatencyRate = 0, Seed = seed }, TimeProvider.System);
        var faulted = new ConcurrentBag<string>();
        async ValueTask CallAsync(string target)
        {
            try
            {
                await chaos.RunAsync(ChaosFaultFamily.Storage, "blob.Download", target, _ => Task.CompletedTask);
            }
            catch (Exception)
            {
                faulted.Add(target);
            }
        }

        if (parallel)
            await Parallel.ForEachAsync(targets, new ParallelOptions { MaxDegreeOfParallelism = 8 }, (t, _) => CallAsync(t));
        else
            foreach (string target in targets)
                await CallAsync(target);
        return [.. faulted];
    }
}
