using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Resilience;
using AlexNet.Pipeline.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AlexNet.Pipeline.Tests.Resilience;

/// <summary>Per-kind chaos latency: the azure-standard profile, the deterministic generator and its tail, validation, the run-time switch.</summary>
public sealed class ChaosLatencyTests : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("alexnet-chaos-latency-");

    [Fact]
    public void TheAzureStandardProfileSetsEveryKindATailAndNoFaults()
    {
        ChaosOptions resolved = new ChaosOptions { LatencyProfile = "Azure-Standard", FaultRate = 0.3, LatencyRate = 0.5 }.Resolve();

        Assert.Equal("azure-standard", resolved.LatencyProfile);
        Assert.Equal(0, resolved.FaultRate);
        Assert.Equal(0, resolved.LatencyRate);
        Assert.Equal(Enum.GetValues<ChaosCallKind>().Order(), resolved.Latencies.Keys.Order());
        Assert.Equal(TimeSpan.FromMilliseconds(50), resolved.Latencies[ChaosCallKind.BlobRead]);
        Assert.Equal(TimeSpan.FromMilliseconds(50), resolved.Latencies[ChaosCallKind.BlobWrite]);
        Assert.Equal(TimeSpan.FromMilliseconds(20), resolved.Latencies[ChaosCallKind.BlobHead]);
        Assert.Equal(TimeSpan.FromMilliseconds(30), resolved.Latencies[ChaosCallKind.QueueReceive]);
        Assert.Equal(0.01, resolved.TailRate);
        Assert.Equal(TimeSpan.FromMilliseconds(500), resolved.TailLatency);
    }

    [Fact]
    public void LatenciesAndATailSetBesideAProfileWinOverIt()
    {
        ChaosOptions resolved = new ChaosOptions
        {
            LatencyProfile = "azure-standard",
            Latencies = { [ChaosCallKind.BlobRead] = TimeSpan.FromMilliseconds(7) },
            TailRate = 0.2,
            TailLatency = TimeSpan.FromSeconds(2),
        }.Resolve();

        Assert.Equal(TimeSpan.FromMilliseconds(7), resolved.Latencies[ChaosCallKind.BlobRead]);
        Assert.Equal(TimeSpan.FromMilliseconds(50), resolved.Latencies[ChaosCallKind.BlobWrite]);
        Assert.Equal(0.2, resolved.TailRate);
        Assert.Equal(TimeSpan.FromSeconds(2), resolved.TailLatency);
    }

    [Fact]
    public void EveryOperationOfTheDecoratorsHasAKind()
    {
        string[] operations =
        [
            "blob.List", "blob.GetEntry", "blob.Download", "blob.CreateIfAbsent", "blob.Upload", "blob.Delete", "blob.SetTags",
            "blob.SetMetadata", "blob.GetMetadata", "blob.FindByTags", "queue.Send", "queue.Receive", "queue.Complete",
            "queue.Abandon", "queue.DeadLetter", "queue.RenewLock", "queue.PeekDeadLetters",
        ];
        foreach (string operation in operations)
            Assert.True(ChaosLatencyProfiles.KindOf(operation) is not null, $"{operation} has no kind");
        Assert.Null(ChaosLatencyProfiles.KindOf("blob.Unknown"));
        Assert.Equal(Enum.GetValues<ChaosCallKind>().Order(), operations.Select(o => ChaosLatencyProfiles.KindOf(o)!.Value).Distinct().Order());
    }

    [Fact]
    public void EachKindGetsItsBaseLatencyAndTheTailComesAtItsRate()
    {
        var chaos = new ChaosInjector(new ChaosOptions { LatencyProfile = "azure-standard", Seed = 5 }, TimeProvider.System);
        var expected = new Dictionary<string, TimeSpan>
        {
            ["blob.Download"] = TimeSpan.FromMilliseconds(50),
            ["blob.GetEntry"] = TimeSpan.FromMilliseconds(20),
            ["blob.Upload"] = TimeSpan.FromMilliseconds(50),
            ["blob.List"] = TimeSpan.FromMilliseconds(50),
            ["blob.SetTags"] = TimeSpan.FromMilliseconds(30),
            ["blob.FindByTags"] = TimeSpan.FromMilliseconds(100),
            ["queue.Receive"] = TimeSpan.FromMilliseconds(30),
            ["queue.Complete"] = TimeSpan.FromMilliseconds(20),
            ["queue.RenewLock"] = TimeSpan.FromMilliseconds(20),
        };
        const int Calls = 20_000;
        foreach (var (operation, baseLatency) in expected)
        {
            var latencies = Enumerable.Range(0, Calls).Select(i => chaos.LatencyOf(operation, $"images/{i}.jpg")).ToList();
            int tail = latencies.Count(l => l == TimeSpan.FromMilliseconds(500));
            Assert.Equal(Calls, tail + latencies.Count(l => l == baseLatency));
            // 1 % of 20,000 is 200, with a standard deviation of 14: 140-260 is over four of them.
            Assert.InRange(tail, 140, 260);
        }
        Assert.Equal(TimeSpan.Zero, chaos.LatencyOf("blob.Unknown", "x"));
    }

    [Fact]
    public void TheSameSeedDelaysTheSameCallsAndAnotherSeedOthers()
    {
        var options = new ChaosOptions { LatencyProfile = "azure-standard", TailRate = 0.05, TailLatency = TimeSpan.FromSeconds(1), Seed = 11 };
        var one = new ChaosInjector(options, TimeProvider.System);
        var two = new ChaosInjector(options, TimeProvider.System);
        var other = new ChaosInjector(new ChaosOptions { LatencyProfile = "azure-standard", TailRate = 0.05, TailLatency = TimeSpan.FromSeconds(1), Seed = 12 }, TimeProvider.System);

        static HashSet<string> Tail(ChaosInjector chaos) =>
            [.. Enumerable.Range(0, 5000).SelectMany(i => new[] { 1, 2 }.Select(n => (Target: $"b/{i}", Occurrence: n)))
                .Where(c => chaos.LatencyOf("blob.Download", c.Target, c.Occurrence) == TimeSpan.FromSeconds(1)).Select(c => $"{c.Target}#{c.Occurrence}")];

        HashSet<string> tail = Tail(one);
        Assert.NotEmpty(tail);
        Assert.True(tail.SetEquals(Tail(two)));
        Assert.False(tail.SetEquals(Tail(other)));
        // A call made again draws again: the tail does not stick to a blob.
        Assert.Contains(tail, t => t.EndsWith("#1", StringComparison.Ordinal) && !tail.Contains(t[..^2] + "#2"));
    }

    [Fact]
    public async Task ACallWaitsItsLatencyOnTheTimeProviderAndNothingWhileSwitchedOff()
    {
        var time = new FakeTimeProvider();
        var chaos = new ChaosInjector(new ChaosOptions { LatencyProfile = "azure-standard", Enabled = false }, time);
        var store = new ChaosBlobStore(new LocalFolderBlobStore(folder.FullName), chaos);
        await store.UploadAsync("chaos", "a.txt", BinaryData.FromString("a"));
        Assert.False(chaos.Active);
        Assert.Equal(0, chaos.Statistics.Delays);

        chaos.Active = true;
        // The second download of a.txt: its latency is known before it is made.
        TimeSpan latency = chaos.LatencyOf("blob.Download", "chaos/a.txt", occurrence: 1);
        Task<BlobDownload?> download = store.DownloadAsync("chaos", "a.txt");
        time.Advance(latency - TimeSpan.FromMilliseconds(1));
        await Task.Delay(100);
        Assert.False(download.IsCompleted, $"the download finished before its {latency.TotalMilliseconds} ms");
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal("a", (await download.WaitAsync(TimeSpan.FromSeconds(10)))!.Content.ToString());
        Assert.Equal(latency, chaos.Statistics.DelayTime);

        chaos.Active = false;
        Assert.Equal("a", (await store.DownloadAsync("chaos", "a.txt").WaitAsync(TimeSpan.FromSeconds(10)))!.Content.ToString());
        Assert.Equal(1, chaos.Statistics.Delays);
        Assert.Equal(3, chaos.Statistics.Calls);
    }

    [Fact]
    public void BadValuesGiveOneClearMessage()
    {
        var unknown = new ChaosOptions { LatencyProfile = "azure-fast" };
        string error = Assert.Single(unknown.Errors());
        Assert.Equal("Chaos:LatencyProfile 'azure-fast' is not a known profile; known: azure-standard.", error);
        Assert.Equal(error, Assert.Throws<ArgumentException>(() => new ChaosInjector(unknown, TimeProvider.System)).Message);

        var negative = new ChaosOptions { Latencies = { [ChaosCallKind.QueueSend] = TimeSpan.FromMilliseconds(-1) } };
        Assert.Equal("Chaos:Latencies:QueueSend must be between 0 and 5 minutes.", Assert.Single(negative.Errors()));

        Assert.Equal("Chaos:TailRate must be between 0 and 1.", Assert.Single(new ChaosOptions { TailRate = 1.5 }.Errors()));
        Assert.Empty(new ChaosOptions { LatencyProfile = "azure-standard" }.Errors());
    }

    [Fact]
    public void TheSectionBindsAndIsCheckedWhereTheHostReadsIt()
    {
        using ServiceProvider good = Services(new()
        {
            ["Chaos:LatencyProfile"] = "azure-standard",
            ["Chaos:Latencies:BlobRead"] = "00:00:00.010",
            ["Chaos:TailRate"] = "0.02",
            ["Chaos:TailLatency"] = "00:00:01",
        });
        ChaosInjector chaos = good.GetRequiredService<ChaosInjector>();
        Assert.Equal(TimeSpan.FromMilliseconds(10), chaos.Options.Latencies[ChaosCallKind.BlobRead]);
        Assert.Equal(TimeSpan.FromMilliseconds(50), chaos.Options.Latencies[ChaosCallKind.BlobWrite]);
        Assert.Equal(0.02, chaos.Options.TailRate);
        Assert.IsType<ChaosBlobStore>(good.GetRequiredService<IBlobStore>());

        using ServiceProvider bad = Services(new() { ["Chaos:LatencyProfile"] = "nowhere" });
        var failure = Assert.Throws<OptionsValidationException>(() => bad.GetRequiredService<IOptions<ChaosOptions>>().Value);
        Assert.Equal("Chaos:LatencyProfile 'nowhere' is not a known profile; known: azure-standard.", Assert.Single(failure.Failures));
    }

    private ServiceProvider Services(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton<IBlobStore>(new LocalFolderBlobStore(folder.FullName));
        builder.Services.AddSingleton<IWorkQueueFactory>(new InProcessWorkQueueFactory(new WorkQueueOptions(), TimeProvider.System));
        builder.AddPipelineChaos();
        return builder.Services.BuildServiceProvider();
    }

    public void Dispose() => folder.Delete(recursive: true);
}
