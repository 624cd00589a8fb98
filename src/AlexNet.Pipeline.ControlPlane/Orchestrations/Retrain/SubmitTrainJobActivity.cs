using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Storage;
using Microsoft.DurableTask;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// Puts the train job on the <c>train-jobs</c> queue (MessageId from the job id, so a repeated run is dropped as a
/// duplicate) and keeps a copy in <c>runs/&lt;job&gt;/train-job.json</c>.
/// </summary>
[DurableTask(OrchestrationNames.SubmitTrainJob)]
public sealed class SubmitTrainJobActivity(IBlobStore store, IWorkQueueFactory queues) : TaskActivity<TrainJob, string>
{
    public override async Task<string> RunAsync(TaskActivityContext context, TrainJob input)
    {
        ArgumentNullException.ThrowIfNull(input);
        BinaryData body = ContractSerializer.ToBinary(input);
        await store.UploadAsync(PipelineNames.RunsContainer, RetrainPaths.RunFile(input.JobId, RetrainPaths.Job), body, "application/json").ConfigureAwait(false);
        string messageId = PipelineNames.MessageId(input.JobId, TrainJob.Subject);
        await queues.GetQueue(PipelineNames.TrainQueue).SendAsync([new OutgoingMessage(messageId, body, TrainJob.Subject, input.JobId)]).ConfigureAwait(false);
        return messageId;
    }
}
