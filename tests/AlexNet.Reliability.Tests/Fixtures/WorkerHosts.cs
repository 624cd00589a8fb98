using System.Globalization;
using AlexNet.Pipeline.Durable;
using AlexNet.Pipeline.Hosting;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Resilience;
using AlexNet.Pipeline.Storage;
using AlexNet.Pipeline.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AlexNet.Reliability.Tests.Fixtures;

/// <summary>
/// The worker's label loop on a generic host, wired as the hosts wire it (AddServiceDefaults, storage, messaging,
/// AddLabelWorker), over a given store and queue factory so that runs and restarts share blobs and messages; with
/// chaos (<see cref="ChaosHostingExtensions.AddPipelineChaos"/>) and the local durable engine when asked.
/// </summary>
internal static class WorkerHosts
{
    public static readonly TimeSpan LockDuration = TimeSpan.FromSeconds(4);

    /// <summary>Delivery settings of the test queues: short locks, so a lost lock costs seconds, not minutes.</summary>
    public static MessagingOptions Queues(int maxDeliveryCount = 10) => new()
    {
        Backend = MessagingBackend.StorageQueue,
        LockDuration = LockDuration,
        MaxDeliveryCount = maxDeliveryCount,
        PollInterval = TimeSpan.FromMilliseconds(100),
    };

    public static Dictionary<string, string?> Settings(string name) => new()
    {
        ["Worker:BatchSize"] = "32",
        ["Worker:MaxMessagesPerReceive"] = "8",
        ["Worker:ReceiveWait"] = "00:00:00.300",
        ["Worker:LockRenewInterval"] = "00:00:01",
        ["Worker:ModelRefreshInterval"] = "00:00:01",
        ["Worker:DecodeParallelism"] = "2",
        ["Worker:WriteParallelism"] = "8",
        ["Worker:Device"] = "cpu",
        ["Worker:TrainingEnabled"] = "false",
        ["Worker:Name"] = name,
        ["Messaging:Backend"] = "storagequeue",
        ["Messaging:LockDuration"] = LockDuration.ToString("c", CultureInfo.InvariantCulture),
        ["Storage:ConnectionString"] = IsolatedAccount.SharedAzurite,
        // Chaos makes the worker log every fault it meets; ALEXNET_RELIABILITY_LOG=Warning shows them.
        ["Logging:LogLevel:Default"] = Environment.GetEnvironmentVariable("ALEXNET_RELIABILITY_LOG") is { Length: > 0 } level ? level : "Critical",
        ["Logging:LogLevel:Azure.Core"] = "Error",
        ["Logging:LogLevel:DurableTask"] = "Error",
        ["Logging:LogLevel:DurableTask.AzureStorage"] = "Error",
        ["Logging:LogLevel:DurableTask.Core"] = "Error",
    };

    /// <summary>Chaos settings: faults and latency at <paramref name="rate"/> each, half the faults after the call took effect.</summary>
    public static void AddChaos(IDictionary<string, string?> settings, bool enabled, double rate, int seed)
    {
        settings["Chaos:Enabled"] = enabled ? "true" : "false";
        settings["Chaos:FaultRate"] = rate.ToString(CultureInfo.InvariantCulture);
        settings["Chaos:LatencyRate"] = rate.ToString(CultureInfo.InvariantCulture);
        settings["Chaos:Latency"] = "00:00:00.100";
        settings["Chaos:LostResponseShare"] = "0.5";
        settings["Chaos:Seed"] = seed.ToString(CultureInfo.InvariantCulture);
    }

    public static IHost Build(
        IDictionary<string, string?> settings, IBlobStore store, IWorkQueueFactory queues, bool chaos = false, bool durable = false, TimeSpan? shutdownTimeout = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Test", DisableDefaults = false });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(queues);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = shutdownTimeout ?? TimeSpan.FromSeconds(10));
        builder.AddServiceDefaults();
        builder.AddPipelineStorage();
        builder.AddPipelineMessaging();
        if (durable)
            builder.AddLocalDurableEngine();
        builder.AddLabelWorker();
        if (chaos)
            builder.AddPipelineChaos();
        return builder.Build();
    }

    /// <summary>Starts the host and waits until its worker has the promoted model on board.</summary>
    public static async Task<IHost> StartAsync(
        IDictionary<string, string?> settings, IBlobStore store, IWorkQueueFactory queues, bool chaos = false, bool durable = false, TimeSpan? shutdownTimeout = null)
    {
        IHost host = Build(settings, store, queues, chaos, durable, shutdownTimeout);
        await host.StartAsync();
        var models = host.Services.GetRequiredService<ModelHolder>();
        await Soak.UntilAsync(() => Task.FromResult(models.IsLoaded), TimeSpan.FromSeconds(60), "the worker to load the promoted model");
        return host;
    }

    public static async Task StopAsync(IHost host)
    {
        await host.StopAsync();
        host.Dispose();
    }
}
