using AlexNet.Testing;
using System.Net;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Storage;
using AlexNet.Pipeline.Worker.Tests.Fixtures;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Worker.Tests;

/// <summary>The worker's own web host (what Program.cs runs) on a test server.</summary>
public sealed class HealthEndpointTests
{
    [Fact]
    public async Task ReadyOnlyOnceAModelIsPromotedAndTheQueueAnswersWhileLiveFromTheStart()
    {
        var store = Azurite.IsolatedStore();
        var settings = WorkerHost.Settings("health");
        var queues = WorkerHost.InProcessQueues(settings);
        await using WebApplication app = WorkerApplication.Create([], builder =>
        {
            builder.WebHost.UseTestServer();
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Services.AddSingleton<IBlobStore>(store);
            builder.Services.AddSingleton<IWorkQueueFactory>(queues);
        });
        await app.StartAsync();
        using HttpClient client = app.GetTestClient();

        // appsettings.json gives the in-flight run up to 2 minutes to finish on shutdown (the container grace period is 4).
        Assert.Equal(TimeSpan.FromSeconds(120), app.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);

        HttpResponseMessage live = await client.GetAsync(WorkerApplication.LivePath);
        HttpResponseMessage notReady = await client.GetAsync(WorkerApplication.ReadyPath);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        Assert.Contains("model: Unhealthy", await notReady.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await TestModels.PublishAsync(store, TestModels.V1);
        await TestPipeline.EventuallyAsync(
            async () => (await client.GetAsync(WorkerApplication.ReadyPath)).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "/health/ready to turn 200");

        // The host really works the queue it reports on.
        string batch = TestPipeline.NewBatch("health");
        string[] paths = await TestPipeline.UploadPhotosAsync(store, batch, 2);
        await TestPipeline.SendAsync(queues.GetQueue("health"), TestPipeline.Chunk(batch, "c000", paths));
        await TestPipeline.EventuallyAsync(async () => (await TestPipeline.MarkersAsync(store, batch)).Count == 1, TimeSpan.FromSeconds(30), "the chunk marker");
        await app.StopAsync();
    }
}
