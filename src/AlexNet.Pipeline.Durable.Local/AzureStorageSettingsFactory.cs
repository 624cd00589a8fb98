using DurableTask.AzureStorage;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Durable;

/// <summary>One place that turns <see cref="LocalDurableOptions"/> into the Azure Storage provider's settings, so the engine and the client agree.</summary>
internal static class AzureStorageSettingsFactory
{
    public static AzureStorageOrchestrationServiceSettings Create(LocalDurableOptions options, ILoggerFactory loggerFactory)
    {
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
            throw new InvalidOperationException("Durable:ConnectionString (or Storage:ConnectionString), e.g. 'UseDevelopmentStorage=true' for Azurite, must be set for the local durable engine.");

        var settings = new AzureStorageOrchestrationServiceSettings
        {
            StorageAccountClientProvider = new StorageAccountClientProvider(options.ConnectionString),
            TaskHubName = options.TaskHubName,
            PartitionCount = options.PartitionCount,
            MaxQueuePollingInterval = options.MaxQueuePollingInterval,
            LeaseAcquireInterval = options.LeaseAcquireInterval,
            ControlQueueVisibilityTimeout = options.MessageVisibilityTimeout,
            WorkItemQueueVisibilityTimeout = options.MessageVisibilityTimeout,
            MaxConcurrentTaskActivityWorkItems = options.MaxConcurrentActivities,
            MaxConcurrentTaskOrchestrationWorkItems = options.MaxConcurrentOrchestrations,
            LoggerFactory = loggerFactory,
        };
        if (!string.IsNullOrWhiteSpace(options.WorkerId))
            settings.WorkerId = options.WorkerId;
        return settings;
    }
}
