using AlexNet.Pipeline.Durable;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Orchestrations;
using AlexNet.Pipeline.Storage;
using AlexNet.Testing;
using AlexNet.Pipeline.Tests.Fixtures;
using Azure.Storage.Blobs;
using DurableTask.AzureStorage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace AlexNet.Pipeline.Tests.Orchestrations;

/// <summary>
/// The local durable engine on its own task hub in Azurite, the pipeline's containers under a per-test prefix, and the
/// in-process work queue, wired as <c>AddPipelineOrchestrations</c> wires them. Engines can be stopped and new ones
/// started on the same task hub, as a restarted host would.
/// </summary>
internal sealed class DurableTestHost : IAsyncDisposable
{
    private readonly BlobServiceClient blobs = new(AzuriteFixture.ConnectionString);
    private readonly ServiceProvider services;
    private readonly IOptions<LocalDurableOptions> options;
    private readonly ILoggerFactory loggerFactory;
    private LocalDurableEngine? engine;

    public DurableTestHost(ITestOutputHelper output, Action<IServiceCollection>? configure = null)
    {
        string id = Guid.NewGuid().ToString("N")[..10];
        loggerFactory = LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Information).AddProvider(new TestOutputLoggerProvider(output)));
        Store = new IsolatedBlobStore(new AzureBlobStore(blobs, loggerFactory.CreateLogger<AzureBlobStore>()), "p" + id);
        options = Options.Create(new LocalDurableOptions
        {
            ConnectionString = AzuriteFixture.ConnectionString,
            TaskHubName = "t" + id,
            PartitionCount = 2,
            MaxQueuePollingInterval = TimeSpan.FromMilliseconds(250),
            LeaseAcquireInterval = TimeSpan.FromMilliseconds(500),
            MessageVisibilityTimeout = TimeSpan.FromSeconds(3),
        });

        var collection = new ServiceCollection();
        collection.AddSingleton(loggerFactory);
        collection.AddLogging();
        collection.AddSingleton<IBlobStore>(Store);
        collection.AddSingleton<IWorkQueueFactory>(new InProcessWorkQueueFactory(new WorkQueueOptions { LockDuration = TimeSpan.FromSeconds(30) }, TimeProvider.System));
        configure?.Invoke(collection);
        collection.AddPipelineOrchestrations();
        services = collection.BuildServiceProvider();
        Client = new LocalOrchestrationClient(options, loggerFactory);
    }

    public IsolatedBlobStore Store { get; }

    public LocalOrchestrationClient Client { get; }

    public IWorkQueueFactory Queues => services.GetRequiredService<IWorkQueueFactory>();

    public ModelRegistry Models => services.GetRequiredService<ModelRegistry>();

    public async Task StartEngineAsync()
    {
        engine = new LocalDurableEngine(services, options, loggerFactory);
        await engine.StartAsync(CancellationToken.None);
    }

    public async Task StopEngineAsync()
    {
        if (engine is not null)
            await engine.StopAsync(CancellationToken.None);
        engine = null;
    }

    public async Task<OrchestrationStatus> WaitAsync(string instanceId, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            return await Client.WaitForCompletionAsync(instanceId, TimeSpan.FromMilliseconds(200), cancel.Token);
        }
        catch (OperationCanceledException)
        {
            OrchestrationStatus status = await Client.GetStatusAsync(instanceId);
            throw new TimeoutException($"{instanceId} still {status.State} after {timeout}: {status.CustomStatusJson}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopEngineAsync();
        var service = new AzureStorageOrchestrationService(AzureStorageSettingsFactory.Create(options.Value, loggerFactory));
        await service.DeleteAsync();
        await foreach (var container in blobs.GetBlobContainersAsync())
        {
            if (container.Name.EndsWith("-" + Store.Suffix, StringComparison.Ordinal))
                await blobs.DeleteBlobContainerAsync(container.Name);
        }
        await services.DisposeAsync();
        loggerFactory.Dispose();
    }
}
