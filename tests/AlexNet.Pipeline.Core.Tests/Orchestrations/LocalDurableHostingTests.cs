using System.Text.Json;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Durable;
using AlexNet.Pipeline.Hosting;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Orchestrations;
using AlexNet.Pipeline.Storage;
using AlexNet.Pipeline.Tests.Fixtures;
using DurableTask.AzureStorage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Tests.Orchestrations;

/// <summary>The local engine as the local pipeline's host wires it: configuration, storage, messaging, hosted service, client.</summary>
public sealed class LocalDurableHostingTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    public AzuriteFixture Azurite { get; } = azurite;

    [Fact]
    public async Task HostWithTheLocalEngineRunsABatchFromConfigurationAlone()
    {
        string id = Guid.NewGuid().ToString("N")[..10];
        string batch = "hosting-" + id;
        var builder = TestHosts.Builder(
            ("Storage:ConnectionString", AzuriteFixture.ConnectionString),
            ("Messaging:Backend", "inprocess"),
            ("Durable:TaskHubName", "h" + id),
            ("Durable:PartitionCount", "1"),
            ("Durable:MaxQueuePollingInterval", "00:00:00.250"));
        builder.AddPipelineStorage();
        builder.AddPipelineMessaging();
        builder.AddLocalDurableEngine();
        using IHost host = builder.Build();
        IBlobStore store = host.Services.GetRequiredService<IBlobStore>();
        for (int i = 0; i < 5; i++)
            await store.UploadAsync(PipelineNames.IncomingContainer, $"{batch}/{i}.jpg", BinaryData.FromBytes([1]));

        await host.StartAsync();
        try
        {
            await using var worker = new FakeLabelWorker(store, host.Services.GetRequiredService<IWorkQueueFactory>());
            var client = host.Services.GetRequiredService<IOrchestrationClient>();
            Assert.True(await client.StartLabelBatchAsync(new LabelBatchInput(batch, ChunkSize: 2, PollSeconds: 2)));

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            OrchestrationStatus status = await ((LocalOrchestrationClient)client).WaitForCompletionAsync(batch, TimeSpan.FromMilliseconds(200), timeout.Token);

            Assert.Equal(OrchestrationState.Completed, status.State);
            Assert.Equal(OrchestrationNames.LabelBatch, status.Name);
            Assert.Equal(5, JsonSerializer.Deserialize<BatchResult>(status.OutputJson!)!.Labeled);
            Assert.Equal(OrchestrationState.NotFound, (await client.GetStatusAsync("no-such-batch")).State);
        }
        finally
        {
            await host.StopAsync();
            var options = host.Services.GetRequiredService<IOptions<LocalDurableOptions>>().Value;
            await new AzureStorageOrchestrationService(AzureStorageSettingsFactory.Create(options, NullLoggerFactory.Instance)).DeleteAsync();
            foreach (string container in new[] { PipelineNames.IncomingContainer, PipelineNames.LabelsContainer, PipelineNames.RunsContainer })
            {
                await foreach (BlobEntry entry in store.ListAsync(container, batch + "/"))
                    await store.DeleteAsync(container, entry.Name);
            }
        }
    }
}
