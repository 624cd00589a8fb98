using System.Text.Json;
using AlexNet.Model.Data;
using AlexNet.Pipeline.Api;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Orchestrations;
using AlexNet.Pipeline.Storage;
using AlexNet.Pipeline.Tests.Fixtures;
using AlexNet.Testing;
using Xunit.Abstractions;

namespace AlexNet.Pipeline.Tests.Orchestrations;

/// <summary>
/// Retrain on the local durable engine over Azurite, with a stand-in trainer that publishes random-weight 64x64 models
/// and reports the evaluation each test scripts (the real evaluation runs in the worker: TrainWorkerTests).
/// </summary>
public sealed class RetrainOrchestrationTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const string Dataset = "fashion";
    private static readonly string[] Classes = ["coat", "shirt"];
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public AzuriteFixture Azurite { get; } = azurite;

    [Fact]
    public async Task GatePromotesABetterCandidateAndRejectsAWorseOne()
    {
        // The second candidate clears the floor (20 images at a 0.5 baseline: at most 16.5 %) but is 5 points worse than the current model.
        var scores = new Queue<(double Candidate, double Current)>([(0.10, 0.20), (0.15, 0.10)]);
        var jobs = new List<TrainJob>();
        await using var host = new DurableTestHost(output);
        await UploadTrainingSetAsync(host);
        await PromoteCurrentAsync(host, "base", "sha256:older-training-set");
        await using var trainer = new FakeTrainer(host.Store, host.Models, host.Queues, job =>
        {
            jobs.Add(job);
            var (candidate, current) = scores.Dequeue();
            return Evaluation(job, candidate, current);
        });
        await host.StartEngineAsync();

        RetrainResult better = await RunAsync(host, "retrain-better", new RetrainInput(Dataset, PollSeconds: 2));
        Assert.Equal(RetrainOutcome.Promoted, better.Outcome);
        Assert.Equal(better.CandidateVersion, (await host.Models.GetCurrentAsync())!.Version);
        Assert.Equal("base", (await host.Models.GetCurrentAsync())!.Previous);

        // The training set is unchanged since the promoted candidate: only a forced run trains again.
        RetrainResult worse = await RunAsync(host, "retrain-worse", new RetrainInput(Dataset, Force: true, PollSeconds: 2));
        Assert.Equal(RetrainOutcome.Rejected, worse.Outcome);
        Assert.Contains("failed the gate", worse.Reason, StringComparison.Ordinal);
        Assert.Equal(better.CandidateVersion, (await host.Models.GetCurrentAsync())!.Version);
        Assert.NotNull(await host.Models.GetManifestAsync(worse.CandidateVersion!));
        Assert.Equal<string?>(["base", better.CandidateVersion], jobs.Select(j => j.ParentVersion));
        Assert.Equal("rejected", (await ReportAsync(host, "retrain-worse")).GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task AFirstModelAtChanceIsRefusedNotPromotedAndTheReportSaysWhy()
    {
        await using var host = new DurableTestHost(output);
        await UploadTrainingSetAsync(host);
        await using var trainer = new FakeTrainer(host.Store, host.Models, host.Queues, job => Evaluation(job, 0.5, null, loss: Math.Log(2)));
        await host.StartEngineAsync();

        RetrainResult result = await RunAsync(host, "retrain-chance", new RetrainInput(Dataset, PollSeconds: 2));

        Assert.Equal(RetrainOutcome.Refused, result.Outcome);
        Assert.Contains("majority-class baseline", result.Reason, StringComparison.Ordinal);
        Assert.Null(await host.Models.GetCurrentAsync());
        JsonElement report = await ReportAsync(host, "retrain-chance");
        Assert.Equal("refused", report.GetProperty("outcome").GetString());
        Assert.Equal(0.5, report.GetProperty("evaluation").GetProperty("majorityTop1Error").GetDouble());
    }

    [Fact]
    public async Task TrainingSettingsLeftOutTravelAsNullsForTheWorkersDefaults()
    {
        var jobs = new List<TrainJob>();
        await using var host = new DurableTestHost(output);
        await UploadTrainingSetAsync(host);
        await using var trainer = new FakeTrainer(host.Store, host.Models, host.Queues, job =>
        {
            jobs.Add(job);
            return Evaluation(job, 0.1, null);
        });
        await host.StartEngineAsync();

        await RunAsync(host, "retrain-defaults", new RetrainInput(Dataset, InputSize: 64, Seed: 7, PollSeconds: 2));

        TrainJob job = Assert.Single(jobs);
        Assert.Equal((64, 7), (job.InputSize, job.Seed));
        Assert.Equal<int?[]>([null, null, null], [job.Epochs, job.BaseSize, job.BatchSize]);
        Assert.Null(job.LearningRate);
        Assert.Null(job.FineTuneFrom);
    }

    [Fact]
    public async Task FromCurrentFineTunesThePromotedModelAndTrainsFromScratchWhenNoneIs()
    {
        var jobs = new List<TrainJob>();
        await using var host = new DurableTestHost(output);
        await UploadTrainingSetAsync(host);
        await using var trainer = new FakeTrainer(host.Store, host.Models, host.Queues, job =>
        {
            jobs.Add(job);
            return Evaluation(job, 0.1, null);
        });
        await host.StartEngineAsync();

        await RunAsync(host, "retrain-first", new RetrainInput(Dataset, FromCurrent: true, PollSeconds: 2));
        string promoted = (await host.Models.GetCurrentAsync())!.Version;
        await RunAsync(host, "retrain-tuned", new RetrainInput(Dataset, Force: true, FromCurrent: true, PollSeconds: 2));

        Assert.Equal(2, jobs.Count);
        Assert.Null(jobs[0].FineTuneFrom);
        Assert.Equal(promoted, jobs[1].FineTuneFrom);
        Assert.Equal(promoted, jobs[1].ParentVersion);
    }

    [Fact]
    public async Task UnchangedTrainingSetIsSkippedWithoutATrainJob()
    {
        await using var host = new DurableTestHost(output);
        await UploadTrainingSetAsync(host);
        ImageDataSet data = await ImageDataSet.ListAsync(new TrainingSetSource(host.Store, Dataset));
        await PromoteCurrentAsync(host, "base", data.Fingerprint);
        var jobs = new List<TrainJob>();
        await using var trainer = new FakeTrainer(host.Store, host.Models, host.Queues, job =>
        {
            jobs.Add(job);
            return Evaluation(job, 0.1, null);
        });
        await host.StartEngineAsync();

        RetrainResult result = await RunAsync(host, "retrain-skip", new RetrainInput(Dataset, PollSeconds: 2));

        Assert.Equal(RetrainOutcome.Skipped, result.Outcome);
        Assert.Equal(data.Fingerprint, result.Fingerprint);
        Assert.Null(result.JobId);
        Assert.Empty(jobs);
        Assert.Equal("base", (await host.Models.GetCurrentAsync())!.Version);
    }

    [Fact]
    public async Task TheReportCountsTheLabelsReviewedCopiesInTheTrainingSetChanged()
    {
        await using var host = new DurableTestHost(output);
        await UploadTrainingSetAsync(host);
        await PromoteCurrentAsync(host, "base", "sha256:older-training-set"); // made at the Unix epoch
        DateTimeOffset after = DateTimeOffset.UnixEpoch.AddDays(1), before = DateTimeOffset.UnixEpoch.AddDays(-1);
        // Copies as review decisions make them: a confirmation and a correction since the current model, an older
        // correction from another batch; and a file named like a copy that no review made (no provenance).
        await UploadReviewCopyAsync(host, "b1", "b1/a.jpg", modelTop1: "coat", decision: "coat", after);
        await UploadReviewCopyAsync(host, "b1", "b1/b.jpg", modelTop1: "coat", decision: "shirt", after);
        await UploadReviewCopyAsync(host, "b2", "b2/c.jpg", modelTop1: "shirt", decision: "coat", before);
        await host.Store.UploadAsync(PipelineNames.TrainingContainer, $"{Dataset}/shirt/hand-0123456789abcdef.jpg",
            BinaryData.FromBytes(SampleImages.PhotoJpeg(80, 80, seed: 99)), "image/jpeg");
        await using var trainer = new FakeTrainer(host.Store, host.Models, host.Queues, job => Evaluation(job, 0.1, 0.2));
        await host.StartEngineAsync();

        RetrainResult result = await RunAsync(host, "retrain-reviewed", new RetrainInput(Dataset, PollSeconds: 2));

        Assert.Equal(RetrainOutcome.Promoted, result.Outcome);
        ReviewedDataSummary reviewed = result.Reviewed!;
        Assert.Equal((3, 1, 2, 2, 2, 1), (reviewed.Images, reviewed.Confirmed, reviewed.Corrected, reviewed.Batches, reviewed.SinceCurrentModel, reviewed.CorrectedSinceCurrentModel));
        Assert.Equal([new ReviewCorrection("coat", "shirt", 1), new ReviewCorrection("shirt", "coat", 1)], reviewed.Corrections);
        JsonElement report = (await ReportAsync(host, "retrain-reviewed")).GetProperty("reviewed");
        Assert.Equal((3, 2, 1), (report.GetProperty("images").GetInt32(), report.GetProperty("corrected").GetInt32(), report.GetProperty("correctedSinceCurrentModel").GetInt32()));
    }

    [Fact]
    public async Task AFailedTrainJobEndsTheRunFailedWithItsReportWritten()
    {
        await using var host = new DurableTestHost(output);
        await UploadTrainingSetAsync(host);
        await using var trainer = new FakeTrainer(host.Store, host.Models, host.Queues, _ => null);
        await host.StartEngineAsync();

        Assert.True(await host.Client.StartRetrainAsync("retrain-fails", new RetrainInput(Dataset, PollSeconds: 2)));
        OrchestrationStatus status = await host.WaitAsync("retrain-fails", Timeout);

        Assert.Equal(OrchestrationState.Failed, status.State);
        Assert.Contains("scripted failure", status.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("\"failed\"", status.CustomStatusJson, StringComparison.Ordinal);
        JsonElement report = await ReportAsync(host, "retrain-fails");
        Assert.Equal("training-failed", report.GetProperty("outcome").GetString());
        Assert.Contains("scripted failure", report.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Null(await host.Models.GetCurrentAsync());
    }

    [Fact]
    public async Task TrainJobThatNeverFinishesFailsAtItsTimeoutNamingTheMarkerAndLeavesAReport()
    {
        await using var host = new DurableTestHost(output);
        await UploadTrainingSetAsync(host);
        await host.StartEngineAsync();

        Assert.True(await host.Client.StartRetrainAsync("retrain-lost", new RetrainInput(Dataset, TrainTimeoutMinutes: 0, PollSeconds: 2)));
        OrchestrationStatus status = await host.WaitAsync("retrain-lost", Timeout);

        Assert.Equal(OrchestrationState.Failed, status.State);
        Assert.Contains("retrain-lost/train-done.json", status.FailureMessage, StringComparison.Ordinal);
        Assert.Null(await host.Models.GetCurrentAsync());
        Assert.Contains("retrain-lost/train-done.json", (await ReportAsync(host, "retrain-lost")).GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    /// <summary>What the worker would report: 20 validation images of two balanced classes (baseline error 0.5).</summary>
    private static EvaluationSummary Evaluation(TrainJob job, double candidate, double? current, double loss = 0.3) => new(
        "scripted",
        20,
        new ModelScore(job.CandidateVersion, 20, candidate, 0, loss),
        current is null || job.ParentVersion is null ? null : new ModelScore(job.ParentVersion, 20, current.Value, 0, 0.3),
        current is null ? 0 : 2,
        current is null ? 0 : 20,
        [],
        Classes.Length,
        0.5);

    private static async Task<JsonElement> ReportAsync(DurableTestHost host, string jobId) =>
        JsonDocument.Parse((await host.Store.DownloadAsync("runs", $"{jobId}/metrics.json"))!.Content.ToString()).RootElement;

    private static async Task<RetrainResult> RunAsync(DurableTestHost host, string instanceId, RetrainInput input)
    {
        Assert.True(await host.Client.StartRetrainAsync(instanceId, input));
        OrchestrationStatus status = await host.WaitAsync(instanceId, Timeout);
        Assert.True(status.State == OrchestrationState.Completed, $"{instanceId} {status.State}: {status.FailureMessage}");
        return JsonSerializer.Deserialize<RetrainResult>(status.OutputJson!)!;
    }

    private static async Task PromoteCurrentAsync(DurableTestHost host, string version, string fingerprint)
    {
        await host.Models.PublishAsync(FakeTrainer.Package(version, Classes, seed: 5, fingerprint));
        await host.Models.PromoteAsync(version, "test setup");
    }

    /// <summary>An image copied into the training set by a review decision, named and described as the review API does.</summary>
    private static async Task UploadReviewCopyAsync(DurableTestHost host, string batch, string path, string modelTop1, string decision, DateTimeOffset at)
    {
        byte[] bytes = SampleImages.PhotoJpeg(80, 80, seed: path.Length * 7 + decision.Length);
        var label = new LabelRecord(batch, ImageIdentity.Of(PipelineNames.IncomingContainer, path, "\"0x1\"", bytes), new ModelIdentity("base", "sha"), "center",
            [new LabelScore(modelTop1, Array.IndexOf(Classes, modelTop1), 0.4f)], at);
        string name = PipelineApi.TrainingBlobName(Dataset, decision, batch, path);
        Assert.True(ReviewedTrainingData.MayBeReviewCopy(name[(name.LastIndexOf('/') + 1)..]), name);
        await host.Store.UploadAsync(PipelineNames.TrainingContainer, name, BinaryData.FromBytes(bytes), "image/jpeg");
        Assert.True(await host.Store.SetMetadataAsync(PipelineNames.TrainingContainer, name, ReviewProvenance.Create(label, batch, "ana", decision, at)));
    }

    /// <summary>Ten small photos per class.</summary>
    private static async Task UploadTrainingSetAsync(DurableTestHost host)
    {
        for (int c = 0; c < Classes.Length; c++)
        {
            for (int i = 0; i < 10; i++)
            {
                await host.Store.UploadAsync(PipelineNames.TrainingContainer, $"{Dataset}/{Classes[c]}/{i:D2}.jpg",
                    BinaryData.FromBytes(SampleImages.PhotoJpeg(80, 80, seed: 10 * c + i)), "image/jpeg");
            }
        }
    }
}
