using System.Collections.Concurrent;
using Azure.Storage.Queues;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Messaging;

/// <summary>One <see cref="StorageWorkQueue"/> per queue name on a shared <see cref="QueueServiceClient"/>.</summary>
public sealed class StorageWorkQueueFactory(
    QueueServiceClient serviceClient,
    WorkQueueOptions options,
    TimeProvider timeProvider,
    ILogger<StorageWorkQueue> logger) : IWorkQueueFactory
{
    private readonly ConcurrentDictionary<string, StorageWorkQueue> queues = new(StringComparer.Ordinal);

    public IWorkQueue GetQueue(string name) =>
        queues.GetOrAdd(name, n => new StorageWorkQueue(serviceClient, n, options, timeProvider, logger));
}
