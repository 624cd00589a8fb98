using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Tests.Fixtures;
using Azure.Messaging.ServiceBus;
using Azure.Messaging.ServiceBus.Administration;

namespace AlexNet.Pipeline.Tests.Messaging;

/// <summary>
/// The queue contract against a real Service Bus namespace (or any endpoint whose connection string allows
/// creating queues), when <c>ALEXNET_SERVICEBUS_CONNECTION</c> is set; no machine here can run Service Bus.
/// Each test creates its own queue with the contract's lock, delivery count and duplicate detection.
/// </summary>
[Trait("Category", "ServiceBus")]
[RequiresEnvironmentVariable(ConnectionVariable)]
public sealed class ServiceBusWorkQueueTests : WorkQueueContract
{
    private const string ConnectionVariable = "ALEXNET_SERVICEBUS_CONNECTION";

    private readonly string? connectionString = Environment.GetEnvironmentVariable(ConnectionVariable);
    private ServiceBusClient? client;
    private ServiceBusWorkQueue? queue;

    protected override IWorkQueue Queue => queue ?? throw new InvalidOperationException($"{ConnectionVariable} is not set.");

    // Service Bus does not accept locks under 5 seconds.
    protected override TimeSpan LockDuration => TimeSpan.FromSeconds(5);

    protected override bool SuppressesDuplicates => true;

    public override async Task InitializeAsync()
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return;
        }

        await new ServiceBusAdministrationClient(connectionString).CreateQueueAsync(new CreateQueueOptions(QueueName)
        {
            LockDuration = LockDuration,
            MaxDeliveryCount = MaxDeliveryCount,
            RequiresDuplicateDetection = true,
            DuplicateDetectionHistoryTimeWindow = TimeSpan.FromMinutes(1),
            AutoDeleteOnIdle = TimeSpan.FromMinutes(10),
        });
        client = new ServiceBusClient(connectionString);
        queue = new ServiceBusWorkQueue(client, QueueName, Options);
    }

    public override async Task DisposeAsync()
    {
        if (queue is not null)
        {
            await queue.DisposeAsync();
            await new ServiceBusAdministrationClient(connectionString).DeleteQueueAsync(QueueName);
        }

        if (client is not null)
        {
            await client.DisposeAsync();
        }
    }
}
