using System.Text.Json;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Hosting;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Storage;
using AlexNet.Testing;
using Azure.Core.Serialization;
using Azure.Storage.Blobs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Functions.Tests.Fixtures;

/// <summary>
/// The Functions app's own service registration (<c>AddPipelineFunctions</c>) on Azurite storage and the in-process
/// work queue, with an upload container of its own so tests do not see each other's uploads.
/// </summary>
public sealed class PipelineServices : IAsyncDisposable
{
    private readonly IHost host;

    public PipelineServices(IDictionary<string, string?>? settings = null)
    {
        Azurite.Require();
        UploadContainer = Azurite.Unique("up");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Development });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = Azurite.ConnectionString,
            ["Messaging:Backend"] = "InProcess",
            ["Ingest:Container"] = UploadContainer,
        });
        if (settings is not null)
            builder.Configuration.AddInMemoryCollection(settings);
        // What the Functions worker's own defaults set up before the app's code runs (the durable status response and
        // the durable engine write through it); the app's setting must win over it.
        builder.Services.Configure<WorkerOptions>(options => options.Serializer = new JsonObjectSerializer());
        builder.AddPipelineFunctions();
        host = builder.Build();
        host.StartAsync().GetAwaiter().GetResult();
    }

    public string UploadContainer { get; }

    public IServiceProvider Services => host.Services;

    public IBlobStore Store => Services.GetRequiredService<IBlobStore>();

    /// <summary>The label queue this host sends to: <c>Messaging:LabelQueue</c>.</summary>
    public IWorkQueue LabelQueue =>
        Services.GetRequiredService<IWorkQueueFactory>().GetQueue(Services.GetRequiredService<IOptions<MessagingOptions>>().Value.LabelQueue);

    public T Get<T>()
        where T : notnull => Services.GetRequiredService<T>();

    /// <summary>Uploads bytes as <c>&lt;upload container&gt;/&lt;name&gt;</c> and returns the entry (with its ETag) it became.</summary>
    public async Task<BlobEntry> UploadAsync(string name, byte[] bytes)
    {
        await Store.UploadAsync(UploadContainer, name, BinaryData.FromBytes(bytes));
        return (await Store.GetEntryAsync(UploadContainer, name))!;
    }

    /// <summary>The label record the worker writes once it has labeled this version of <paramref name="upload"/> (<paramref name="path"/> within <paramref name="batch"/>).</summary>
    public async Task WriteLabelRecordAsync(string batch, string path, BlobEntry upload)
    {
        var record = new LabelRecord(
            batch,
            new ImageIdentity(upload.Container, upload.Name, upload.ETag, "0", upload.Size),
            new ModelIdentity("v1", "0"),
            "Center",
            [new LabelScore("shirt", 6, 0.9f)],
            DateTimeOffset.UtcNow);
        await Store.UploadAsync(LabelPaths.LabelsContainer, LabelPaths.Record(batch, path), BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(record, LabelJsonContext.Default.LabelRecord)));
    }

    public BlobClient BlobClient(string name) =>
        Services.GetRequiredService<BlobServiceClient>().GetBlobContainerClient(UploadContainer).GetBlobClient(name);

    /// <summary>Everything on the label queue now, completed so a second call sees only what came after.</summary>
    public async Task<IReadOnlyList<(string MessageId, LabelRequest Request)>> DrainLabelQueueAsync()
    {
        var all = new List<(string, LabelRequest)>();
        while (true)
        {
            IReadOnlyList<ReceivedMessage> batch = await LabelQueue.ReceiveAsync(100, TimeSpan.Zero);
            if (batch.Count == 0)
                return all;
            foreach (ReceivedMessage message in batch)
            {
                all.Add((message.MessageId, ContractSerializer.FromBinary<LabelRequest>(message.Body)));
                await LabelQueue.CompleteAsync(message);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Services.GetRequiredService<BlobServiceClient>().GetBlobContainerClient(UploadContainer).DeleteIfExistsAsync();
        await host.StopAsync();
        host.Dispose();
    }
}
