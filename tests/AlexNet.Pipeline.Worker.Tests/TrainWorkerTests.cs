using System.Text.Json;
using AlexNet.Imaging;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Storage;
using AlexNet.Pipeline.Worker.Tests.Fixtures;
using AlexNet.Testing;
using SkiaSharp;

namespace AlexNet.Pipeline.Worker.Tests;

/// <summary>Train jobs end to end: a tiny two-class data set in Azurite, one epoch on the CPU, the candidate published.</summary>
public sealed class TrainWorkerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task TrainsPublishesTheCandidateWritesTrainDoneThenCompletesAndARedeliveryIsANoOp()
    {
        var store = new InstrumentedBlobStore(Azurite.IsolatedStore());
        await TestModels.PublishAsync(store, TestModels.V1);
        await UploadDataSetAsync(store, "shapes");
        string workFolder = Directory.CreateTempSubdirectory("alexnet-train-test").FullName;
        var settings = WorkerHost.Settings("labels-t", trainQueue: "train-t");
        settings["Worker:WorkFolder"] = workFolder;
        var queues = WorkerHost.InProcessQueues(settings);
        TrainJob job = Job("job-1", "shapes", "cand-1") with { ParentVersion = "v1" };
        IWorkQueue queue = queues.GetQueue("train-t");
        await queue.SendAsync([new OutgoingMessage("first", ContractSerializer.ToBinary(job), TrainJob.Subject)]);

        await using (var worker = await WorkerHost.StartAsync(settings, store, queues, training: true))
        {
            await TestPipeline.EventuallyAsync(() => Task.FromResult(queues.Queue("train-t").CompletedCount == 1), Patience, "the train job to be completed");

            // The same job again (a redelivery after a lost complete): its marker makes it a no-op.
            await queue.SendAsync([new OutgoingMessage("again", ContractSerializer.ToBinary(job), TrainJob.Subject)]);
            await TestPipeline.EventuallyAsync(() => Task.FromResult(queues.Queue("train-t").CompletedCount == 2), Patience, "the repeated job to be completed");
        }

        TrainDone done = await ReadAsync(store, PipelineNames.TrainDoneBlob("job-1"), ContractsJsonContext.Default.TrainDone);
        Assert.True(done.Succeeded, done.Error);
        Assert.Equal("cand-1", done.CandidateVersion);
        Assert.Contains("validation_top5_error", done.Metrics.Keys);

        // The worker scored the candidate for the gate; v1 knows other classes, so it is not scored, and says why.
        EvaluationSummary evaluation = Assert.IsType<EvaluationSummary>(done.Evaluation);
        Assert.Equal((2, 0.5), (evaluation.Classes, evaluation.MajorityTop1Error));
        Assert.Equal(evaluation.Images, evaluation.Candidate.Images);
        Assert.Null(evaluation.Current);
        Assert.Contains("does not know the classes blue, red", evaluation.CurrentNotScored);
        Assert.Contains("runs/job-1/evaluation.json", evaluation.Artifacts);
        Assert.Contains("runs/job-1/comparison.png", evaluation.Artifacts);
        Assert.NotNull(await store.GetEntryAsync(PipelineNames.RunsContainer, "job-1/confusion-candidate.png"));
        Assert.Equal(1, store.WritesOf(PipelineNames.RunsContainer, PipelineNames.TrainDoneBlob("job-1")));

        var registry = new ModelRegistry(store, TimeProvider.System);
        var manifest = await registry.GetManifestAsync("cand-1");
        Assert.NotNull(manifest);
        Assert.Equal(("v1", "sha256:snapshot-of-shapes"), (manifest.ParentVersion, manifest.TrainingDataFingerprint));
        Assert.Equal(["blue", "red"], manifest.Classes);
        Assert.Equal("v1", (await registry.GetCurrentAsync())!.Version);
        Assert.NotNull(await store.GetEntryAsync(PipelineNames.RunsContainer, "job-1/" + TrainJobProcessor.TrainMetricsFile));
        Assert.Null(await store.GetEntryAsync(PipelineNames.RunsContainer, "job-1/metrics.json")); // the Retrain report's name
        Assert.False(Directory.Exists(Path.Combine(workFolder, "alexnet-train", "job-1")), "the job's work folder should be removed once its marker is written");
        Assert.All(queues.Queue("train-t").Log, e => Assert.Equal(Settlement.Completed, e.Settlement));
    }

    [Fact]
    public async Task AJobThatNamesAModelToStartFromFineTunesItWithItsGeometryAndRecordsTheLineage()
    {
        var store = Azurite.IsolatedStore();
        await TestModels.PublishAsync(store, TestModels.V1);
        await UploadDataSetAsync(store, "shapes");
        var settings = WorkerHost.Settings("labels-f", trainQueue: "train-f");
        settings["Worker:WorkFolder"] = Directory.CreateTempSubdirectory("alexnet-finetune-test").FullName;
        var queues = WorkerHost.InProcessQueues(settings);
        // No input or base size: a fine-tune takes the start model's (64 from 72), not the recipe's 224.
        TrainJob job = Job("job-f", "shapes", "cand-f") with { ParentVersion = "v1", FineTuneFrom = "v1", InputSize = null, BaseSize = null };
        await queues.GetQueue("train-f").SendAsync([new OutgoingMessage("tune", ContractSerializer.ToBinary(job), TrainJob.Subject)]);

        await using (var worker = await WorkerHost.StartAsync(settings, store, queues, training: true))
            await TestPipeline.EventuallyAsync(() => Task.FromResult(queues.Queue("train-f").CompletedCount == 1), Patience, "the fine-tune job to be completed");

        TrainDone done = await ReadAsync(store, PipelineNames.TrainDoneBlob("job-f"), ContractsJsonContext.Default.TrainDone);
        Assert.True(done.Succeeded, done.Error);
        var manifest = await new ModelRegistry(store, TimeProvider.System).GetManifestAsync("cand-f");
        Assert.NotNull(manifest);
        Assert.Equal(("v1", TestModels.V1.Manifest.WeightsSha256), (manifest.FineTunedFrom!.Version, manifest.FineTunedFrom.WeightsSha256));
        Assert.Equal((64, 72), (manifest.InputSize, manifest.BaseSize));
        Assert.Equal(["blue", "red"], manifest.Classes);
    }

    [Fact]
    public async Task InvalidJobIsDeadLetteredAndReportedFailedSoTheOrchestrationStopsWaiting()
    {
        var store = Azurite.IsolatedStore();
        await TestModels.PublishAsync(store, TestModels.V1);
        var settings = WorkerHost.Settings("labels-i", trainQueue: "train-i");
        var queues = WorkerHost.InProcessQueues(settings);
        IWorkQueue queue = queues.GetQueue("train-i");
        await queue.SendAsync(
        [
            new OutgoingMessage("zero-epochs", ContractSerializer.ToBinary(Job("job-2", "shapes", "cand-2") with { Epochs = 0 })),
            new OutgoingMessage("garbage", BinaryData.FromString("{\"jobId\": 12")),
        ]);

        await using (var worker = await WorkerHost.StartAsync(settings, store, queues, training: true))
        {
            await TestPipeline.EventuallyAsync(() => Task.FromResult(queues.Queue("train-i").Log.Count == 2), Patience, "both jobs to be settled");
        }

        var deadLetters = new Dictionary<string, string?>();
        await foreach (ReceivedMessage message in queue.PeekDeadLettersAsync(10))
            deadLetters[message.MessageId] = message.DeadLetterReason;
        Assert.Contains("epochs must be at least 1", deadLetters["zero-epochs"]);
        Assert.StartsWith("invalid train job: body is not a TrainJob", deadLetters["garbage"]);
        TrainDone done = await ReadAsync(store, PipelineNames.TrainDoneBlob("job-2"), ContractsJsonContext.Default.TrainDone);
        Assert.False(done.Succeeded);
        Assert.Contains("epochs must be at least 1", done.Error);
    }

    private static TrainJob Job(string id, string dataset, string candidate) =>
        new(id, dataset, candidate, ParentVersion: null, TrainingFingerprint: $"sha256:snapshot-of-{dataset}", Epochs: 1, InputSize: 64, BaseSize: 72,
            BatchSize: 8, LearningRate: 0.01, Seed: 1, RequestedAt: DateTimeOffset.UtcNow);

    /// <summary><c>training/&lt;dataset&gt;/red/*.jpg</c> and <c>blue/*.jpg</c>, eight each, in slightly different shades.</summary>
    private static async Task UploadDataSetAsync(IBlobStore store, string dataset)
    {
        for (int i = 0; i < 8; i++)
        {
            byte shade = (byte)(150 + i * 10);
            await store.UploadAsync(PipelineNames.TrainingContainer, $"{dataset}/red/r{i}.jpg", BinaryData.FromBytes(SampleImages.Solid(ImageFormat.Jpeg, 80, 80, new SKColor(shade, 20, 30))));
            await store.UploadAsync(PipelineNames.TrainingContainer, $"{dataset}/blue/b{i}.jpg", BinaryData.FromBytes(SampleImages.Solid(ImageFormat.Jpeg, 80, 80, new SKColor(20, 30, shade))));
        }
    }

    private static async Task<T> ReadAsync<T>(IBlobStore store, string name, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        BlobDownload? download = await store.DownloadAsync(PipelineNames.RunsContainer, name);
        Assert.NotNull(download);
        return JsonSerializer.Deserialize(download.Content.ToMemory().Span, type)!;
    }
}
