using System.Collections.Concurrent;
using AlexNet.Model.Data;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Orchestrations;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Pipeline.Tests.Orchestrations;

/// <summary>
/// Stands in for the worker's train jobs: receives a <see cref="TrainJob"/>, publishes a random-weight 64x64 network
/// under the job's candidate version (classes from the training set, the job's fingerprint), and writes
/// <c>runs/&lt;job&gt;/train-done.json</c> with the evaluation the test scripts (null: the job fails), as the worker's
/// contract says.
/// </summary>
internal sealed class FakeTrainer : IAsyncDisposable
{
    private readonly IBlobStore store;
    private readonly ModelRegistry models;
    private readonly IWorkQueue queue;
    private readonly Func<TrainJob, EvaluationSummary?> evaluate;
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;

    public FakeTrainer(IBlobStore store, ModelRegistry models, IWorkQueueFactory queues, Func<TrainJob, EvaluationSummary?> evaluate)
    {
        this.store = store;
        this.models = models;
        this.evaluate = evaluate;
        queue = queues.GetQueue(PipelineNames.TrainQueue);
        loop = Task.Run(RunAsync);
    }

    public ConcurrentQueue<TrainJob> Jobs { get; } = new();

    /// <summary>A package of a random network, as a trainer would publish it.</summary>
    public static ModelPackage Package(string version, IReadOnlyList<string> classes, int seed, string? fingerprint, string? parent = null)
    {
        using AlexNetNetwork network = AlexNetFactory.Create(new AlexNetOptions { Classes = classes.Count, InputSize = 64, Seed = seed });
        return ModelPackage.Create(new ModelManifest
        {
            Version = version,
            ParentVersion = parent,
            Classes = classes,
            InputSize = 64,
            BaseSize = 72,
            Mean = [120f, 110f, 100f],
            WeightsSha256 = "pending",
            TrainingDataFingerprint = fingerprint,
            CreatedAt = DateTimeOffset.UnixEpoch,
        }, network);
    }

    private async Task RunAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            IReadOnlyList<ReceivedMessage> messages;
            try
            {
                messages = await queue.ReceiveAsync(1, TimeSpan.FromMilliseconds(200), stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            foreach (ReceivedMessage message in messages)
            {
                var job = ContractSerializer.FromBinary<TrainJob>(message.Body);
                Jobs.Enqueue(job);
                ImageDataSet data = await ImageDataSet.ListAsync(new TrainingSetSource(store, job.Dataset));
                await models.PublishAsync(Package(job.CandidateVersion, data.Classes, job.Seed + Jobs.Count, job.TrainingFingerprint, job.ParentVersion));
                EvaluationSummary? evaluation = evaluate(job);
                var done = new TrainDone(job.JobId, job.CandidateVersion, evaluation is not null, evaluation is null ? "scripted failure" : null,
                    new Dictionary<string, double> { ["epochs"] = job.Epochs ?? 0 }, DateTimeOffset.UtcNow, evaluation);
                await store.UploadAsync(PipelineNames.RunsContainer, PipelineNames.TrainDoneBlob(job.JobId), ContractSerializer.ToBinary(done), "application/json");
                await queue.CompleteAsync(message);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await loop;
        stop.Dispose();
    }
}
