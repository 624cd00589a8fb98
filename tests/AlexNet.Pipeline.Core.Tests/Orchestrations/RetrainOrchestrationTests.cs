using System.Text.Json;
using AlexNet.Model.Data;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Orchestrations;
using AlexNet.Pipeline.Tests.Fixtures;
using AlexNet.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace AlexNet.Pipeline.Tests.Orchestrations;

/// <summary>Retrain on the local durable engine over Azurite, with a stand-in trainer publishing random-weight 64x64 models.</summary>
public sealed class RetrainOrchestrationTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const string Dataset = "fashion";
    private static readonly string[] Classes = ["coat", "shirt"];
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public AzuriteFixture Azurite { get; } = azurite;

    [Fact]
    public async Task RealEvaluationComparesBothModelsAndPromotesACandidateWithinTheGate()
    {
        await using var host = new DurableTestHost(output);
        await UploadTrainingSetAsync(host);
        await PromoteCurrentAsync(host, "base", "sha256:older-training-set");
        await using var trainer = new FakeTrainer(host.Store, host.Models, host.Queues);
        await host.StartEngineAsync();

        RetrainResult result = await RunAsync(host, "retrain-real", new RetrainInput(Dataset, PollSeconds: 2));

        // Two classes: every model's top-5 holds the true class, so both top-5 errors are 0 and the gate passes.
        Assert.Equal(RetrainOutcome.Promoted, result.Outcome);
        Assert.Equal((0.0, 0.0), (result.CandidateTop5Error!.Value, result.CurrentTop5Error!.Value));
        Assert.Equal(2, result.ValidationImages);
        Assert.Equal(result.CandidateVersion, (await host.Models.GetCurrentAsync())!.Version);
        Assert.Equal("base", (await host.Models.GetCurrentAsync())!.Previous);

        var churn = JsonDocument.Parse((await host.Store.DownloadAsync("runs", "retrain-real/label-churn.json"))!.Content.ToString()).RootElement;
        Assert.Equal(2, churn.GetProperty("compared").GetInt32());
        Assert.Equal(result.Top1Changed, churn.GetProperty("changed").GetInt32());
        var metrics = JsonDocument.Parse((await host.Store.DownloadAsync("runs", "retrain-real/metrics.json"))!.Content.ToString()).RootElement;
        Assert.Equal("promoted", metrics.GetProperty("outcome").GetString());
        foreach (string plot in new[] { RetrainPaths.ComparisonPlot, RetrainPaths.CandidateConfusionPlot, RetrainPaths.CurrentConfusionPlot })
        {
            byte[] png = (await host.Store.DownloadAsync("runs", $"retrain-real/{plot}"))!.Content.ToArray();
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        }
        TrainJob job = Assert.Single(trainer.Jobs);
        Assert.Equal(("retrain-real", "base"), (job.JobId, job.ParentVersion));
    }

    [Fact]
    public async Task GatePromotesABetterCandidateAndRejectsAWorseOne()
    {
        var evaluator = new ScriptedEvaluator((0.10, 0.20), (0.30, 0.10));
        await using var host = new DurableTestHost(output, services => services.AddSingleton<ICandidateEvaluator>(evaluator));
        await UploadTrainingSetAsync(host);
        await PromoteCurrentAsync(host, "base", "sha256:older-training-set");
        await using var trainer = new FakeTrainer(host.Store, host.Models, host.Queues);
        await host.StartEngineAsync();

        RetrainResult better = await RunAsync(host, "retrain-better", new RetrainInput(Dataset, PollSeconds: 2));
        Assert.Equal(RetrainOutcome.Promoted, better.Outcome);
        Assert.Equal(2, better.Top1Changed);
        Assert.Equal(better.CandidateVersion, (await host.Models.GetCurrentAsync())!.Version);

        // The training set is unchanged since the promoted candidate: only a forced run trains again.
        RetrainResult worse = await RunAsync(host, "retrain-worse", new RetrainInput(Dataset, Force: true, PollSeconds: 2));
        Assert.Equal(RetrainOutcome.Rejected, worse.Outcome);
        Assert.Contains("failed the gate", worse.Reason, StringComparison.Ordinal);
        Assert.Equal(better.CandidateVersion, (await host.Models.GetCurrentAsync())!.Version);
        Assert.NotNull(await host.Models.GetManifestAsync(worse.CandidateVersion!));
        Assert.Equal<string?>(["base", better.CandidateVersion], evaluator.Calls.Select(c => c.CurrentVersion));
        var metrics = JsonDocument.Parse((await host.Store.DownloadAsync("runs", "retrain-worse/metrics.json"))!.Content.ToString()).RootElement;
        Assert.Equal("rejected", metrics.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task UnchangedTrainingSetIsSkippedWithoutATrainJob()
    {
        await using var host = new DurableTestHost(output);
        await UploadTrainingSetAsync(host);
        ImageDataSet data = await ImageDataSet.ListAsync(new TrainingSetSource(host.Store, Dataset));
        await PromoteCurrentAsync(host, "base", data.Fingerprint);
        await using var trainer = new FakeTrainer(host.Store, host.Models, host.Queues);
        await host.StartEngineAsync();

        RetrainResult result = await RunAsync(host, "retrain-skip", new RetrainInput(Dataset, PollSeconds: 2));

        Assert.Equal(RetrainOutcome.Skipped, result.Outcome);
        Assert.Equal(data.Fingerprint, result.Fingerprint);
        Assert.Null(result.JobId);
        Assert.Empty(trainer.Jobs);
        Assert.Equal("base", (await host.Models.GetCurrentAsync())!.Version);
    }

    [Fact]
    public async Task TrainJobThatNeverFinishesFailsAtItsTimeoutNamingTheMarker()
    {
        await using var host = new DurableTestHost(output, services => services.AddSingleton<ICandidateEvaluator>(new ScriptedEvaluator()));
        await UploadTrainingSetAsync(host);
        await host.StartEngineAsync();

        Assert.True(await host.Client.StartRetrainAsync("retrain-lost", new RetrainInput(Dataset, TrainTimeoutMinutes: 0, PollSeconds: 2)));
        OrchestrationStatus status = await host.WaitAsync("retrain-lost", Timeout);

        Assert.Equal(OrchestrationState.Failed, status.State);
        Assert.Contains("retrain-lost/train-done.json", status.FailureMessage, StringComparison.Ordinal);
        Assert.Null(await host.Models.GetCurrentAsync());
    }

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

    /// <summary>Ten small photos per class: the trainer's 10% validation split holds one of each.</summary>
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
