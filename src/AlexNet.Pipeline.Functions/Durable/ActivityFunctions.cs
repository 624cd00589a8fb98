using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Orchestrations;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;

namespace AlexNet.Pipeline.Functions.Durable;

/// <summary>
/// One activity function per activity class of <see cref="OrchestrationRegistry"/>, named as the registry names it.
/// The class comes from the invocation's services (<c>AddPipelineOrchestrations</c> registers each), so it gets
/// the same constructor-injected services as on the local engine.
/// </summary>
public sealed class ActivityFunctions
{
    [Function(OrchestrationNames.ListAndChunk)]
    public Task<ChunkPlan> ListAndChunk([ActivityTrigger] ListAndChunkInput input, string instanceId, FunctionContext context) =>
        Run<ListAndChunkActivity, ListAndChunkInput, ChunkPlan>(OrchestrationNames.ListAndChunk, input, instanceId, context);

    [Function(OrchestrationNames.SendChunks)]
    public Task<int> SendChunks([ActivityTrigger] SendChunksInput input, string instanceId, FunctionContext context) =>
        Run<SendChunksActivity, SendChunksInput, int>(OrchestrationNames.SendChunks, input, instanceId, context);

    [Function(OrchestrationNames.CheckChunks)]
    public Task<ChunkCheck> CheckChunks([ActivityTrigger] CheckChunksInput input, string instanceId, FunctionContext context) =>
        Run<CheckChunksActivity, CheckChunksInput, ChunkCheck>(OrchestrationNames.CheckChunks, input, instanceId, context);

    [Function(OrchestrationNames.CountDoneChunks)]
    public Task<DoneChunkCount> CountDoneChunks([ActivityTrigger] CountDoneChunksInput input, string instanceId, FunctionContext context) =>
        Run<CountDoneChunksActivity, CountDoneChunksInput, DoneChunkCount>(OrchestrationNames.CountDoneChunks, input, instanceId, context);

    [Function(OrchestrationNames.WriteBatchReport)]
    public Task<BatchReportResult> WriteBatchReport([ActivityTrigger] WriteBatchReportInput input, string instanceId, FunctionContext context) =>
        Run<WriteBatchReportActivity, WriteBatchReportInput, BatchReportResult>(OrchestrationNames.WriteBatchReport, input, instanceId, context);

    [Function(OrchestrationNames.Fingerprint)]
    public Task<FingerprintResult> Fingerprint([ActivityTrigger] string input, string instanceId, FunctionContext context) =>
        Run<FingerprintActivity, string, FingerprintResult>(OrchestrationNames.Fingerprint, input, instanceId, context);

    [Function(OrchestrationNames.SubmitTrainJob)]
    public Task<string> SubmitTrainJob([ActivityTrigger] TrainJob input, string instanceId, FunctionContext context) =>
        Run<SubmitTrainJobActivity, TrainJob, string>(OrchestrationNames.SubmitTrainJob, input, instanceId, context);

    [Function(OrchestrationNames.CheckTrainDone)]
    public Task<TrainDone?> CheckTrainDone([ActivityTrigger] string input, string instanceId, FunctionContext context) =>
        Run<CheckTrainDoneActivity, string, TrainDone?>(OrchestrationNames.CheckTrainDone, input, instanceId, context);

    [Function(OrchestrationNames.Promote)]
    public Task<PromoteResult> Promote([ActivityTrigger] PromoteInput input, string instanceId, FunctionContext context) =>
        Run<PromoteActivity, PromoteInput, PromoteResult>(OrchestrationNames.Promote, input, instanceId, context);

    [Function(OrchestrationNames.WriteRetrainReport)]
    public Task<string> WriteRetrainReport([ActivityTrigger] WriteRetrainReportInput input, string instanceId, FunctionContext context) =>
        Run<WriteRetrainReportActivity, WriteRetrainReportInput, string>(OrchestrationNames.WriteRetrainReport, input, instanceId, context);

    [Function(OrchestrationNames.Rollback)]
    public Task<CurrentModelPointer> Rollback([ActivityTrigger] string input, string instanceId, FunctionContext context) =>
        Run<RollbackActivity, string, CurrentModelPointer>(OrchestrationNames.Rollback, input, instanceId, context);

    private static Task<TOutput> Run<TActivity, TInput, TOutput>(string name, TInput input, string instanceId, FunctionContext context)
        where TActivity : TaskActivity<TInput, TOutput>
    {
        ArgumentNullException.ThrowIfNull(context);
        TActivity activity = context.InstanceServices.GetRequiredService<TActivity>();
        return activity.RunAsync(new FunctionActivityContext(name, instanceId), input);
    }
}
