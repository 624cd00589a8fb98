using System.Text.Json;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Storage;
using Microsoft.DurableTask;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>Writes <c>runs/&lt;job&gt;/metrics.json</c>, the decision of a retrain run, and returns its blob path.</summary>
[DurableTask(OrchestrationNames.WriteRetrainReport)]
public sealed class WriteRetrainReportActivity(IBlobStore store) : TaskActivity<WriteRetrainReportInput, string>
{
    public override async Task<string> RunAsync(TaskActivityContext context, WriteRetrainReportInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        RetrainReport report = input.Report;
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(report, RetrainJsonContext.Default.RetrainReport);
        await store.UploadAsync(PipelineNames.RunsContainer, RetrainPaths.RunFile(report.JobId, RetrainPaths.Metrics), BinaryData.FromBytes(json), "application/json").ConfigureAwait(false);
        return RetrainPaths.Blob(report.JobId, RetrainPaths.Metrics);
    }
}
