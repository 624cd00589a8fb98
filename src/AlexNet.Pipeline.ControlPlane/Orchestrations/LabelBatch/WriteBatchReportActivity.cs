using AlexNet.Pipeline.Labeling;
using Microsoft.DurableTask;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// Writes the batch files (<c>labels.jsonl</c>, <c>labels.csv</c>, <c>review.jsonl</c>, <c>summary.json</c>) from the
/// chunks' record files (one read per chunk), or from every label and rejected record in storage when a chunk has none,
/// and returns only their counts.
/// </summary>
[DurableTask(OrchestrationNames.WriteBatchReport)]
public sealed class WriteBatchReportActivity(BatchReport report) : TaskActivity<WriteBatchReportInput, BatchReportResult>
{
    public override async Task<BatchReportResult> RunAsync(TaskActivityContext context, WriteBatchReportInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ChunkTotals totals = input.Totals;
        // The workers report their own time per chunk, not forward-pass time: ForwardSeconds stays 0 here.
        var run = new LabelRunStatistics(
            totals.Images, totals.Labeled, totals.AlreadyLabeled, totals.Rejected, totals.Failed, input.Seconds,
            input.Seconds > 0 ? totals.Images / input.Seconds : 0, 0, totals.Vanished);
        BatchSummary summary = (input.Chunks is int chunks ? await report.WriteFromChunksAsync(input.Batch, chunks, input.MinConfidence, run).ConfigureAwait(false) : null)
            ?? await report.WriteAsync(input.Batch, input.MinConfidence, run).ConfigureAwait(false);
        return new BatchReportResult(summary.Images, summary.Labeled, summary.Rejected, summary.NeedsReview,
            $"{LabelPaths.LabelsContainer}/{LabelPaths.BatchFile(input.Batch, LabelPaths.Summary)}");
    }
}
