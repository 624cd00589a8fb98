using AlexNet.Pipeline.Hosting;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Storage;
using AlexNet.Testing;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AlexNet.Pipeline.Worker.Tests.Fixtures;

/// <summary>
/// The worker's loops on a generic host, as the local pipeline hosts them: AddServiceDefaults, storage, messaging,
/// AddLabelWorker (and AddTrainWorker), over a given store and queue factory so that a test can restart the
/// host on the same messages and blobs.
/// </summary>
public sealed class WorkerHost : IAsyncDisposable
{
    private WorkerHost(IHost host) => Host = host;

    public IHost Host { get; }

    public IServiceProvider Services => Host.Services;

    /// <summary>Settings small enough for a test: short waits, short locks, small batches.</summary>
    public static Dictionary<string, string?> Settings(string queue, string? trainQueue = null) => new()
    {
        ["Messaging:LabelQueue"] = queue,
        ["Messaging:TrainQueue"] = trainQueue ?? queue + "-train",
        ["Worker:TrainingEnabled"] = trainQueue is null ? "false" : "true",
        ["Worker:BatchSize"] = "16",
        ["Worker:MaxMessagesPerReceive"] = "8",
        ["Worker:ReceiveWait"] = "00:00:00.300",
        ["Worker:LockRenewInterval"] = "00:00:01",
        ["Worker:ModelRefreshInterval"] = "00:00:00.300",
        ["Worker:DecodeParallelism"] = "2",
        ["Worker:WriteParallelism"] = "4",
        ["Worker:Device"] = "cpu",
        ["Worker:Name"] = "test-worker",
        ["Messaging:Backend"] = "inprocess",
        ["Messaging:LockDuration"] = "00:00:05",
        ["Messaging:MaxDeliveryCount"] = "5",
        ["Messaging:PollInterval"] = "00:00:00.100",
        ["Storage:ConnectionString"] = Azurite.ConnectionString,
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Azure.Core"] = "Error",
    };

    /// <summary>Queues on Azurite Storage Queues (no duplicate detection, durable across host restarts).</summary>
    public static RecordingQueueFactory StorageQueues(IDictionary<string, string?> settings)
    {
        var options = new MessagingOptions
        {
            LockDuration = TimeSpan.Parse(settings["Messaging:LockDuration"]!, System.Globalization.CultureInfo.InvariantCulture),
            MaxDeliveryCount = int.Parse(settings["Messaging:MaxDeliveryCount"]!, System.Globalization.CultureInfo.InvariantCulture),
            PollInterval = TimeSpan.FromMilliseconds(100),
        };
        var client = new QueueServiceClient(Azurite.ConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        return new RecordingQueueFactory(new StorageWorkQueueFactory(client, options, TimeProvider.System, NullLogger<StorageWorkQueue>.Instance));
    }

    /// <summary>In-process queues with Service Bus's rules; they live as long as the factory, across host restarts.</summary>
    public static RecordingQueueFactory InProcessQueues(IDictionary<string, string?> settings) =>
        new(new InProcessWorkQueueFactory(
            new MessagingOptions
            {
                LockDuration = TimeSpan.Parse(settings["Messaging:LockDuration"]!, System.Globalization.CultureInfo.InvariantCulture),
                MaxDeliveryCount = int.Parse(settings["Messaging:MaxDeliveryCount"]!, System.Globalization.CultureInfo.InvariantCulture),
            },
            TimeProvider.System));

    public static IHost Build(
        IDictionary<string, string?> settings, IBlobStore? store = null, IWorkQueueFactory? queues = null, TimeSpan? shutdownTimeout = null, bool training = false,
        Action<IServiceCollection>? services = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console => console.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        if (store is not null)
            builder.Services.AddSingleton(store);
        if (queues is not null)
            builder.Services.AddSingleton(queues);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = shutdownTimeout ?? TimeSpan.FromSeconds(30));
        builder.AddServiceDefaults();
        builder.AddPipelineStorage();
        builder.AddPipelineMessaging();
        builder.AddLabelWorker();
        if (training)
            builder.AddTrainWorker();
        services?.Invoke(builder.Services);
        return builder.Build();
    }

    public static async Task<WorkerHost> StartAsync(
        IDictionary<string, string?> settings, IBlobStore store, IWorkQueueFactory queues, TimeSpan? shutdownTimeout = null, bool training = false,
        Action<IServiceCollection>? services = null)
    {
        IHost host = Build(settings, store, queues, shutdownTimeout, training, services);
        await host.StartAsync();
        return new WorkerHost(host);
    }

    public T Service<T>()
        where T : notnull => Host.Services.GetRequiredService<T>();

    public Task StopAsync() => Host.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync();
        Host.Dispose();
    }
}
