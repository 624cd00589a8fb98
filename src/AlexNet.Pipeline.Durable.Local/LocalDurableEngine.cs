using AlexNet.Pipeline.Orchestrations;
using DurableTask.AzureStorage;
using DurableTask.Core;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Durable;

/// <summary>
/// Runs the pipeline's orchestrations durably on this machine: a Durable Task Framework <see cref="TaskHubWorker"/> on
/// the Azure Storage provider (queues, tables and blobs of the task hub, on Azurite locally), with every orchestrator
/// and activity of <see cref="OrchestrationRegistry"/> behind the SDK's shims. Histories live in storage, so a
/// stopped engine and a new one on the same task hub pick up where the first left off.
/// </summary>
public sealed partial class LocalDurableEngine(
    IServiceProvider services,
    IOptions<LocalDurableOptions> options,
    ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
{
    private readonly ILogger logger = loggerFactory.CreateLogger<LocalDurableEngine>();
    private TaskHubWorker? worker;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (worker is not null)
            throw new InvalidOperationException("the engine is already started");
        LocalDurableOptions settings = options.Value;
        var service = new AzureStorageOrchestrationService(AzureStorageSettingsFactory.Create(settings, loggerFactory));
        await service.CreateIfNotExistsAsync().WaitAsync(cancellationToken).ConfigureAwait(false);

        var shims = new DurableTaskShimFactory(new DurableTaskWorkerOptions(), loggerFactory);
        worker = new TaskHubWorker(
            service,
            new ShimOrchestrationManager(shims, OrchestrationRegistry.Orchestrators),
            new ShimActivityManager(shims, services, OrchestrationRegistry.Activities),
            loggerFactory)
        {
            // The SDK's TaskFailedException reads failure details; the framework's default mode drops them.
            ErrorPropagationMode = ErrorPropagationMode.UseFailureDetails,
        };
        await worker.StartAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        Started(logger, settings.TaskHubName);
    }

    /// <summary>Stops taking work, lets work items in flight finish, and releases the partitions for the next engine.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        TaskHubWorker? running = Interlocked.Exchange(ref worker, null);
        if (running is null)
            return;
        await running.StopAsync(isForced: false).WaitAsync(cancellationToken).ConfigureAwait(false);
        running.Dispose();
        Stopped(logger, options.Value.TaskHubName);
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);

    [LoggerMessage(1, LogLevel.Information, "Local durable engine started on task hub {TaskHub}")]
    private static partial void Started(ILogger logger, string taskHub);

    [LoggerMessage(2, LogLevel.Information, "Local durable engine stopped on task hub {TaskHub}")]
    private static partial void Stopped(ILogger logger, string taskHub);
}
