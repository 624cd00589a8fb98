using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Storage;
using AlexNet.Pipeline.Hosting;
using Microsoft.DurableTask;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// Puts the train job on the train queue (<c>Messaging:TrainQueue</c>, default <c>train-jobs</c>) (MessageId from the job id, so a repeated run is dropped as a
/// duplicate) and keeps a copy in <c>runs/&lt;job&gt;/train-job.json</c>.
/// </summary>
[DurableTask(OrchestrationNames.SubmitTrainJob)]
public sealed class SubmitTrainJobActivity(IBlobStore store, IWorkQueueFactory queues, IOptions<MessagingOptions> messaging) : TaskActivity<TrainJob, string>
{
    public override async Task<string> RunAsync(TaskActivityContext context, TrainJob input)
    {
        ArgumentNullException.ThrowIfNull(input);
        BinaryData body = ContractSerializer.ToBinary(input);
        await store.UploadAsync(PipelineNames.RunsContainer, RetrainPaths.RunFile(input.JobId, RetrainPaths.Job), body, "application/json").ConfigureAwait(false);
        string messageId = PipelineNames.MessageId(input.JobId, TrainJob.Subject);
        await queues.GetQueue(messaging.Value.TrainQueue).SendAsync([new OutgoingMessage(messageId, body, TrainJob.Subject, input.JobId)]).ConfigureAwait(false);
        return messageId;
    }
}
