using System.Text.Json;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Orchestrations;
using AlexNet.Pipeline.Tests.Fixtures;
using Xunit.Abstractions;

namespace AlexNet.Pipeline.Tests.Orchestrations;

/// <summary>LabelBatch on the local durable engine over Azurite, with a stand-in worker on the in-process queue.</summary>
public sealed class LabelBatchOrchestrationTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public AzuriteFixture Azurite { get; } = azurite;

    [Fact]
    public async Task BatchInSeveralChunksCompletesWithEveryImageCounted()
    {
        await using var host = new DurableTestHost(output);
        await UploadImagesAsync(host, "b1", 23);
        await using var worker = new FakeLabelWorker(host.Store, host.Queues);
        await host.StartEngineAsync();

        Assert.True(await host.Client.StartLabelBatchAsync(Input("b1", chunkSize: 5, chunksPerGroup: 2)));
        OrchestrationStatus status = await host.WaitAsync("b1", Timeout);

        Assert.Equal(OrchestrationState.Completed, status.State);
        BatchResult result = JsonSerializer.Deserialize<BatchResult>(status.OutputJson!)!;
        Assert.Equal((23, 5, 23, 0, 0), (result.Images, result.Chunks, result.Labeled, result.Rejected, result.Resends));
        Assert.Equal("labels/b1/summary.json", result.SummaryBlob);
        var summary = JsonSerializer.Deserialize((await host.Store.DownloadAsync("labels", "b1/summary.json"))!.Content.ToMemory().Span, LabelJsonContext.Default.BatchSummary)!;
        Assert.Equal(23, summary.Labeled);
        Assert.Equal(23, (await host.Store.DownloadAsync("labels", "b1/labels.jsonl"))!.Content.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        LabelBatchProgress progress = JsonSerializer.Deserialize<LabelBatchProgress>(status.CustomStatusJson!)!;
        Assert.Equal(("done", 5, 5, 23, 23), (progress.Phase, progress.ChunksDone, progress.Chunks, progress.ImagesDone, progress.Images));
        Assert.Equal(5, worker.Deliveries.Count);
        Assert.All(worker.Deliveries.Values, d => Assert.Single(d));
    }

    [Fact]
    public async Task StartingTheSameBatchTwiceIsANoOp()
    {
        await using var host = new DurableTestHost(output);
        await UploadImagesAsync(host, "b2", 6);
        await using var worker = new FakeLabelWorker(host.Store, host.Queues);
        await host.StartEngineAsync();

        Assert.True(await host.Client.StartLabelBatchAsync(Input("b2", chunkSize: 3)));
        Assert.False(await host.Client.StartLabelBatchAsync(Input("b2", chunkSize: 3)));
        Assert.Equal(OrchestrationState.Completed, (await host.WaitAsync("b2", Timeout)).State);
        Assert.False(await host.Client.StartLabelBatchAsync(Input("b2", chunkSize: 3)));

        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(2, worker.Deliveries.Count);
        Assert.All(worker.Deliveries.Values, d => Assert.Single(d));
    }

    [Fact]
    public async Task ChunkWhoseMarkerNeverAppearsIsResentAfterTheTimeoutAndThenCompletes()
    {
        await using var host = new DurableTestHost(output);
        await UploadImagesAsync(host, "b3", 9);
        await using var worker = new FakeLabelWorker(host.Store, host.Queues) { Drop = (request, before) => request.Chunk == "c00001" && before == 0 };
        await host.StartEngineAsync();

        Assert.True(await host.Client.StartLabelBatchAsync(Input("b3", chunkSize: 3) with { ChunkTimeoutSeconds = 3 }));
        OrchestrationStatus status = await host.WaitAsync("b3", Timeout);

        Assert.Equal(OrchestrationState.Completed, status.State);
        BatchResult result = JsonSerializer.Deserialize<BatchResult>(status.OutputJson!)!;
        Assert.Equal((9, 9, 1), (result.Images, result.Labeled, result.Resends));
        string[] ids = worker.Deliveries["c00001"].ToArray();
        Assert.Equal(2, ids.Length);
        Assert.Equal(PipelineNames.MessageId("b3", "c00001"), ids[0]);
        Assert.NotEqual(ids[0], ids[1]);
        Assert.Single(worker.Deliveries["c00000"]);
    }

    [Fact]
    public async Task ChunkThatNeverCompletesFailsTheBatchNamingItAfterTheLastResend()
    {
        await using var host = new DurableTestHost(output);
        await UploadImagesAsync(host, "b4", 4);
        await using var worker = new FakeLabelWorker(host.Store, host.Queues) { Drop = (request, _) => request.Chunk == "c00000" };
        await host.StartEngineAsync();

        Assert.True(await host.Client.StartLabelBatchAsync(Input("b4", chunkSize: 2) with { ChunkTimeoutSeconds = 2, MaxResends = 1 }));
        OrchestrationStatus status = await host.WaitAsync("b4", Timeout);

        output.WriteLine(status.FailureMessage);
        Assert.Equal(OrchestrationState.Failed, status.State);
        Assert.Contains("c00000", status.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("1 resend", status.FailureMessage, StringComparison.Ordinal);
        Assert.Equal(2, worker.Deliveries["c00000"].Count);
    }

    [Fact]
    public async Task RestartingTheEngineDuringTheFanOutLosesNothing()
    {
        await using var host = new DurableTestHost(output);
        await UploadImagesAsync(host, "b5", 40);
        await using var worker = new FakeLabelWorker(host.Store, host.Queues, delayPerChunk: TimeSpan.FromMilliseconds(400));
        await host.StartEngineAsync();
        Assert.True(await host.Client.StartLabelBatchAsync(Input("b5", chunkSize: 4, chunksPerGroup: 3) with { PollsPerHistory = 2 }));

        // The restarts count from the orchestration's start, not the request's: a loaded machine once took longer
        // than the first delay below to pick the instance up, and the first restart found it still Pending.
        var started = System.Diagnostics.Stopwatch.StartNew();
        while ((await host.Client.GetStatusAsync("b5")).State == OrchestrationState.Pending && started.Elapsed < Timeout)
            await Task.Delay(TimeSpan.FromMilliseconds(100));

        var statesAtRestart = new List<OrchestrationState>();
        for (int restart = 0; restart < 3; restart++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            await host.StopEngineAsync();
            statesAtRestart.Add((await host.Client.GetStatusAsync("b5")).State);
            await host.StartEngineAsync();
        }
        OrchestrationStatus status = await host.WaitAsync("b5", Timeout);

        // The worker alone needs 4 s for the ten chunks, so at least the first restart fell into the fan-out.
        Assert.Equal(OrchestrationState.Running, statesAtRestart[0]);

        Assert.Equal(OrchestrationState.Completed, status.State);
        BatchResult result = JsonSerializer.Deserialize<BatchResult>(status.OutputJson!)!;
        Assert.Equal((40, 10, 40, 0), (result.Images, result.Chunks, result.Labeled, result.Resends));
        Assert.Equal(10, worker.Deliveries.Count);
    }

    private static LabelBatchInput Input(string batch, int chunkSize, int chunksPerGroup = 50) =>
        new(batch, ChunkSize: chunkSize, PollSeconds: 2, ChunksPerGroup: chunksPerGroup, ChunkTimeoutSeconds: 30);

    private static async Task UploadImagesAsync(DurableTestHost host, string batch, int count) =>
        await Parallel.ForEachAsync(Enumerable.Range(0, count), async (i, token) =>
            await host.Store.UploadAsync(PipelineNames.IncomingContainer, $"{batch}/img-{i:D3}.jpg", BinaryData.FromBytes([1, 2, 3]), cancellationToken: token));
}
