using AlexNet.Pipeline.Hosting;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Tests.Fixtures;
using Azure.Messaging.ServiceBus;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Tests.Messaging;

public sealed class MessagingRegistrationTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task TheInProcessBackendSharesOneQueuePerNameAcrossTheHost()
    {
        var builder = TestHosts.Builder(("Messaging:Backend", "inprocess"), ("Messaging:MaxDeliveryCount", "2"));
        builder.AddPipelineMessaging();
        using var host = builder.Build();
        await host.StartAsync();

        var factory = host.Services.GetRequiredService<IWorkQueueFactory>();
        await factory.GetQueue("chunks").SendAsync([new OutgoingMessage("m", BinaryData.FromString("x"))]);
        var message = Assert.Single(await factory.GetQueue("chunks").ReceiveAsync(1, TimeSpan.Zero));

        Assert.IsType<InProcessWorkQueueFactory>(factory);
        Assert.Equal(2, host.Services.GetRequiredService<IOptions<MessagingOptions>>().Value.MaxDeliveryCount);
        Assert.Equal("m", message.MessageId);
        await host.StopAsync();
    }

    [Fact]
    public async Task TheStorageQueueBackendUsesTheStorageAccountWithBase64Messages()
    {
        _ = azurite;
        var builder = TestHosts.Builder(
            ("Messaging:Backend", "storagequeue"),
            ("Messaging:LockDuration", "00:00:05"),
            ("Storage:ConnectionString", AzuriteFixture.ConnectionString));
        builder.AddPipelineMessaging();
        using var host = builder.Build();
        await host.StartAsync();
        var name = UniqueNames.For("reg");

        var queue = host.Services.GetRequiredService<IWorkQueueFactory>().GetQueue(name);
        await queue.SendAsync([new OutgoingMessage("m", BinaryData.FromString("x"))]);
        var message = Assert.Single(await queue.ReceiveAsync(1, TimeSpan.FromSeconds(5)));
        await queue.CompleteAsync(message);

        Assert.IsType<StorageWorkQueue>(queue);
        Assert.Equal("x", message.Body.ToString());
        await host.Services.GetRequiredService<QueueServiceClient>().DeleteQueueAsync(name);
        await host.StopAsync();
    }

    [Fact]
    public void AServiceBusNamespaceGivesAnIdentityClientForIt()
    {
        var builder = TestHosts.Builder(
            ("Messaging:Backend", "servicebus"),
            ("ServiceBus:fullyQualifiedNamespace", "alexnet.servicebus.windows.net"),
            ("ServiceBus:clientId", "00000000-0000-0000-0000-000000000001"));
        builder.AddPipelineMessaging();
        using var host = builder.Build();

        var client = host.Services.GetRequiredService<ServiceBusClient>();

        Assert.Equal("alexnet.servicebus.windows.net", client.FullyQualifiedNamespace);
        Assert.IsType<ServiceBusWorkQueueFactory>(host.Services.GetRequiredService<IWorkQueueFactory>());
    }

    [Fact]
    public async Task ServiceBusWithoutConnectionSettingsFailsAtStartNamingThem()
    {
        var builder = TestHosts.Builder();
        builder.AddPipelineMessaging();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("ServiceBus:ConnectionString", error.Message, StringComparison.Ordinal);
        Assert.Contains("ServiceBus:fullyQualifiedNamespace", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StorageQueuesWithoutAnAccountFailAtStartNamingTheSettings()
    {
        var builder = TestHosts.Builder(("Messaging:Backend", "storagequeue"));
        builder.AddPipelineMessaging();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Storage:queueServiceUri", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownBackendFailsAtStartNamingTheSetting()
    {
        var builder = TestHosts.Builder(("Messaging:Backend", "carrier-pigeon"));
        builder.AddPipelineMessaging();
        using var host = builder.Build();

        var error = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("Messaging:Backend", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFractionalLockFailsAtStartForStorageQueues()
    {
        var builder = TestHosts.Builder(
            ("Messaging:Backend", "storagequeue"),
            ("Messaging:LockDuration", "00:00:01.500"),
            ("Storage:ConnectionString", AzuriteFixture.ConnectionString));
        builder.AddPipelineMessaging();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Messaging:LockDuration", error.Message, StringComparison.Ordinal);
    }
}
