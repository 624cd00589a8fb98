using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Tests.Fixtures;
using Azure.Messaging.ServiceBus;
using Azure.Messaging.ServiceBus.Administration;

namespace AlexNet.Pipeline.Tests.Messaging;

/// <summary>
/// The queue contract against Service Bus when <c>ALEXNET_SERVICEBUS_CONNECTION</c> is set (no machine here can run
/// Service Bus; CI runs the official emulator). Each test creates its own queue with the contract's lock, delivery
/// count and duplicate detection through the administration client, which reaches the emulator (2.0 and later) on
/// its management port 5300: set <c>ALEXNET_SERVICEBUS_ADMIN_CONNECTION</c> to override the derived address.
/// </summary>
[Trait("Category", "ServiceBus")]
[RequiresEnvironmentVariable(ConnectionVariable)]
public sealed class ServiceBusWorkQueueTests : WorkQueueContract
{
    private const string ConnectionVariable = "ALEXNET_SERVICEBUS_CONNECTION";
    private const string AdminConnectionVariable = "ALEXNET_SERVICEBUS_ADMIN_CONNECTION";

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

        await Administration().CreateQueueAsync(new CreateQueueOptions(QueueName)
        {
            LockDuration = LockDuration,
            MaxDeliveryCount = MaxDeliveryCount,
            RequiresDuplicateDetection = true,
            DuplicateDetectionHistoryTimeWindow = TimeSpan.FromMinutes(1),
        });
        client = new ServiceBusClient(connectionString);
        queue = new ServiceBusWorkQueue(client, QueueName, Options);
    }

    public override async Task DisposeAsync()
    {
        if (queue is not null)
        {
            await queue.DisposeAsync();
            await Administration().DeleteQueueAsync(QueueName);
        }

        if (client is not null)
        {
            await client.DisposeAsync();
        }
    }

    // The emulator serves management on port 5300, not on the messaging endpoint.
    private ServiceBusAdministrationClient Administration()
    {
        var admin = Environment.GetEnvironmentVariable(AdminConnectionVariable);
        if (string.IsNullOrWhiteSpace(admin))
        {
            admin = connectionString!.Contains("UseDevelopmentEmulator=true", StringComparison.OrdinalIgnoreCase)
                ? connectionString.Replace("Endpoint=sb://localhost;", "Endpoint=sb://localhost:5300;", StringComparison.OrdinalIgnoreCase)
                : connectionString;
        }

        return new ServiceBusAdministrationClient(admin);
    }
}
