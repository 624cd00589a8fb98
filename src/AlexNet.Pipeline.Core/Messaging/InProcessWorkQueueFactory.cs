using System.Collections.Concurrent;

namespace AlexNet.Pipeline.Messaging;

/// <summary>One <see cref="InProcessWorkQueue"/> per name for the life of the factory, so senders and receivers meet.</summary>
public sealed class InProcessWorkQueueFactory(WorkQueueOptions options, TimeProvider timeProvider) : IWorkQueueFactory
{
    private readonly ConcurrentDictionary<string, InProcessWorkQueue> queues = new(StringComparer.Ordinal);

    public IWorkQueue GetQueue(string name) => queues.GetOrAdd(name, n => new InProcessWorkQueue(n, options, timeProvider));
}
