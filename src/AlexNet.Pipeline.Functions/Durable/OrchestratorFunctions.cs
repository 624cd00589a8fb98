using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Orchestrations;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;

namespace AlexNet.Pipeline.Functions.Durable;

/// <summary>
/// One orchestrator function per orchestrator class of <see cref="OrchestrationRegistry"/>, named as the registry
/// names it; each runs a fresh instance of the class (orchestrators hold no state between replays).
/// </summary>
public sealed class OrchestratorFunctions
{
    [Function(OrchestrationNames.LabelBatch)]
    public Task<BatchResult> LabelBatch([OrchestrationTrigger] TaskOrchestrationContext context) =>
        Run<LabelBatchOrchestration, LabelBatchInput, BatchResult>(context);

    [Function(OrchestrationNames.LabelChunkGroup)]
    public Task<ChunkGroupResult> LabelChunkGroup([OrchestrationTrigger] TaskOrchestrationContext context) =>
        Run<LabelChunkGroupOrchestration, ChunkGroupInput, ChunkGroupResult>(context);

    [Function(OrchestrationNames.Retrain)]
    public Task<RetrainResult> Retrain([OrchestrationTrigger] TaskOrchestrationContext context) =>
        Run<RetrainOrchestration, RetrainInput, RetrainResult>(context);

    [Function(OrchestrationNames.WaitForTrainDone)]
    public Task<TrainDone> WaitForTrainDone([OrchestrationTrigger] TaskOrchestrationContext context) =>
        Run<WaitForTrainDoneOrchestration, TrainWaitInput, TrainDone>(context);

    private static Task<TOutput> Run<TOrchestrator, TInput, TOutput>(TaskOrchestrationContext context)
        where TOrchestrator : TaskOrchestrator<TInput, TOutput>, new()
    {
        ArgumentNullException.ThrowIfNull(context);
        TInput input = context.GetInput<TInput>() ?? throw new ArgumentException($"orchestration {context.Name} ({context.InstanceId}) was started without an input");
        return new TOrchestrator().RunAsync(context, input);
    }
}
