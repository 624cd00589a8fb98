using Microsoft.DurableTask;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>An orchestrator or activity class and the name the engines know it by.</summary>
public sealed record DurableTaskType(string Name, Type Type)
{
    /// <summary>The <c>TInput</c> of its <see cref="TaskOrchestrator{TInput, TOutput}"/> or <see cref="TaskActivity{TInput, TOutput}"/>.</summary>
    public Type InputType => GenericArguments[0];

    public Type OutputType => GenericArguments[1];

    private Type[] GenericArguments
    {
        get
        {
            for (Type? type = Type; type is not null; type = type.BaseType)
            {
                if (type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(TaskOrchestrator<,>) || type.GetGenericTypeDefinition() == typeof(TaskActivity<,>)))
                    return type.GetGenericArguments();
            }
            throw new InvalidOperationException($"{Type} is neither a TaskOrchestrator<,> nor a TaskActivity<,>");
        }
    }
}

/// <summary>
/// Every orchestrator and activity of the pipeline by name: the local engine registers exactly these, and the
/// Functions app has one trigger function per entry, named <see cref="DurableTaskType.Name"/>.
/// </summary>
public static class OrchestrationRegistry
{
    public static IReadOnlyList<DurableTaskType> Orchestrators { get; } =
    [
        new(OrchestrationNames.LabelBatch, typeof(LabelBatchOrchestration)),
        new(OrchestrationNames.LabelChunkGroup, typeof(LabelChunkGroupOrchestration)),
        new(OrchestrationNames.Retrain, typeof(RetrainOrchestration)),
        new(OrchestrationNames.WaitForTrainDone, typeof(WaitForTrainDoneOrchestration)),
    ];

    public static IReadOnlyList<DurableTaskType> Activities { get; } =
    [
        new(OrchestrationNames.ListAndChunk, typeof(ListAndChunkActivity)),
        new(OrchestrationNames.SendChunks, typeof(SendChunksActivity)),
        new(OrchestrationNames.CheckChunks, typeof(CheckChunksActivity)),
        new(OrchestrationNames.CountDoneChunks, typeof(CountDoneChunksActivity)),
        new(OrchestrationNames.WriteBatchReport, typeof(WriteBatchReportActivity)),
        new(OrchestrationNames.Fingerprint, typeof(FingerprintActivity)),
        new(OrchestrationNames.SubmitTrainJob, typeof(SubmitTrainJobActivity)),
        new(OrchestrationNames.CheckTrainDone, typeof(CheckTrainDoneActivity)),
        new(OrchestrationNames.Promote, typeof(PromoteActivity)),
        new(OrchestrationNames.WriteRetrainReport, typeof(WriteRetrainReportActivity)),
        new(OrchestrationNames.Rollback, typeof(RollbackActivity)),
    ];
}
