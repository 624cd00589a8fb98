using System.Collections.Concurrent;
using Azure.Messaging.ServiceBus;

namespace AlexNet.Pipeline.Messaging;

/// <summary>
/// One <see cref="ServiceBusWorkQueue"/> per queue name on a shared client: senders and receivers hold AMQP
/// links that are costly to open, so they live as long as the factory.
/// </summary>
public sealed class ServiceBusWorkQueueFactory(ServiceBusClient client, WorkQueueOptions options) : IWorkQueueFactory, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<ServiceBusWorkQueue>> queues = new(StringComparer.Ordinal);

    public IWorkQueue GetQueue(string name) =>
        queues.GetOrAdd(name, n => new Lazy<ServiceBusWorkQueue>(() => new ServiceBusWorkQueue(client, n, options))).Value;

    public async ValueTask DisposeAsync()
    {
        foreach (var queue in queues.Values.Where(q => q.IsValueCreated))
        {
            await queue.Value.DisposeAsync().ConfigureAwait(false);
        }

        queues.Clear();
    }
}
