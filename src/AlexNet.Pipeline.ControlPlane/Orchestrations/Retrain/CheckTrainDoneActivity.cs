using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Storage;
using Microsoft.DurableTask;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>The job's <c>runs/&lt;job&gt;/train-done.json</c>, or null while the worker has not written it.</summary>
[DurableTask(OrchestrationNames.CheckTrainDone)]
public sealed class CheckTrainDoneActivity(IBlobStore store) : TaskActivity<string, TrainDone?>
{
    public override async Task<TrainDone?> RunAsync(TaskActivityContext context, string input)
    {
        BlobDownload? download = await store.DownloadAsync(PipelineNames.RunsContainer, PipelineNames.TrainDoneBlob(input)).ConfigureAwait(false);
        return download is null ? null : ContractSerializer.FromBinary<TrainDone>(download.Content);
    }
}
