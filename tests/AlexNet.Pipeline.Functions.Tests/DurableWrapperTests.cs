using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Functions.Durable;
using AlexNet.Pipeline.Functions.Tests.Fixtures;
using AlexNet.Pipeline.Orchestrations;
using AlexNet.Testing;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;

namespace AlexNet.Pipeline.Functions.Tests;

/// <summary>
/// The orchestrator and activity functions run on a real durable engine, registered exactly as the Functions host
/// would call them: the orchestrator function gets the context, the activity function its input, instance id and
/// an invocation context whose services are the app's.
/// </summary>
public sealed class DurableWrapperTests : IAsyncLifetime
{
    private readonly PipelineServices pipeline = new();
    private DurableTaskTestHost? host;

    [Fact]
    public async Task WaitForTrainDoneRunsThroughItsFunctionsUntilTheWorkerWritesItsMarker()
    {
        string jobId = Azurite.Unique("job");
        var input = new TrainWaitInput(jobId, DateTime.UtcNow.AddMinutes(1), PollSeconds: 1, PollsPerHistory: 100);
        string instanceId = await host!.Client.ScheduleNewOrchestrationInstanceAsync(OrchestrationNames.WaitForTrainDone, input);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var done = new TrainDone(jobId, "v2", true, null, new Dictionary<string, double> { ["top5"] = 0.97 }, DateTimeOffset.UtcNow);
        await pipeline.Store.UploadAsync(PipelineNames.RunsContainer, PipelineNames.TrainDoneBlob(jobId), ContractSerializer.ToBinary(done));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        OrchestrationMetadata result = await host.Client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: true, timeout.Token);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
        TrainDone output = result.ReadOutputAs<TrainDone>()!;
        Assert.Equal(jobId, output.JobId);
        Assert.Equal("v2", output.CandidateVersion);
        await pipeline.Store.DeleteAsync(PipelineNames.RunsContainer, PipelineNames.TrainDoneBlob(jobId));
    }

    public async Task InitializeAsync()
    {
        var orchestrators = new OrchestratorFunctions();
        var activities = new ActivityFunctions();
        host = await TestDurableHosts.StartAsync(tasks =>
        {
            tasks.AddOrchestratorFunc<TrainWaitInput, TrainDone>(OrchestrationNames.WaitForTrainDone, (context, input) => orchestrators.WaitForTrainDone(context));
            tasks.AddActivityFunc<string, TrainDone?>(OrchestrationNames.CheckTrainDone, (context, input) =>
                activities.CheckTrainDone(input, context.InstanceId, new TestFunctionContext(pipeline.Services, OrchestrationNames.CheckTrainDone)));
        });
    }

    public async Task DisposeAsync()
    {
        if (host is not null)
            await host.DisposeAsync();
        await pipeline.DisposeAsync();
    }
}
