using AlexNet.Pipeline.Functions.Durable;
using AlexNet.Pipeline.Orchestrations;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;

namespace AlexNet.Pipeline.Functions.Tests.Fixtures;

/// <summary>
/// A real durable engine in this process (the Durable Task SDK's in-memory test host, over gRPC on a local port),
/// with stand-in LabelBatch and Retrain orchestrations that finish at once: what the API does with the engine is
/// under test here, not the orchestrations themselves.
/// </summary>
public sealed class DurableTestHost : IAsyncLifetime
{
    private DurableTaskTestHost? host;

    public DurableTaskClient Client => host?.Client ?? throw new InvalidOperationException("not started");

    public FunctionsOrchestrationClient Orchestrations => new(Client);

    public async Task InitializeAsync() =>
        host = await TestDurableHosts.StartAsync(tasks =>
        {
            // The real progress and result shapes, stored by the SDK's default serializer (PascalCase), as Durable
            // Functions stores them unless the app gives it another.
            tasks.AddOrchestratorFunc<LabelBatchInput, BatchResult>(OrchestrationNames.LabelBatch, (context, input) =>
            {
                context.SetCustomStatus(new LabelBatchProgress("done", 1, 1, 3, 3, 1.5, null));
                return Task.FromResult(new BatchResult(input.Batch, 3, 1, 2, 1, 0, 0, 0, 2.0, 1.5, $"labels/{input.Batch}/summary.json"));
            });
            tasks.AddOrchestratorFunc<RetrainInput, RetrainResult>(OrchestrationNames.Retrain, (context, input) =>
            {
                context.SetCustomStatus(new RetrainProgress("done", "job-1", "v2"));
                return Task.FromResult(new RetrainResult(RetrainOutcome.Refused, input.Dataset, "fp", "job-1", "v2", null,
                    0.9, 0.5, null, null, 40, null, "refused: the candidate did not clearly beat the majority-class baseline", "runs/job-1/metrics.json"));
            });
        });

    public async Task DisposeAsync()
    {
        if (host is not null)
            await host.DisposeAsync();
    }

    public async Task<OrchestrationMetadata> WaitForCompletionAsync(string instanceId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await Client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: true, timeout.Token);
    }
}
