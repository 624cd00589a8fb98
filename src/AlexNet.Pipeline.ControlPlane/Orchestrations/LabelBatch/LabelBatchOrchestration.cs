using System.Globalization;
using AlexNet.Pipeline.Labeling;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// Labels every image under a prefix: <c>ListAndChunk</c> writes chunk requests and returns a <see cref="ChunkPlan"/>;
/// one <see cref="LabelChunkGroupOrchestration"/> per <see cref="LabelBatchInput.ChunksPerGroup"/> chunks sends them to
/// the worker queue and waits for their done markers; meanwhile this orchestration counts done markers now and then
/// for its custom status (<see cref="LabelBatchProgress"/>); finally <c>WriteBatchReport</c> writes the batch files.
/// Run it with instance id = batch id. Only references and counts pass through the history.
/// </summary>
[DurableTask(OrchestrationNames.LabelBatch)]
public sealed class LabelBatchOrchestration : TaskOrchestrator<LabelBatchInput, BatchResult>
{
    /// <summary>The progress poll stretches to this fraction of the time elapsed, so a long batch polls O(log t) times.</summary>
    private const double ProgressPollFraction = 0.02;

    private static readonly TimeSpan MaxProgressPoll = TimeSpan.FromMinutes(10);

    public override async Task<BatchResult> RunAsync(TaskOrchestrationContext context, LabelBatchInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        LabelPaths.ValidateBatch(input.Batch);
        ILogger logger = context.CreateReplaySafeLogger<LabelBatchOrchestration>();
        TaskOptions retry = ActivityRetry.Default;
        DateTime started = context.CurrentUtcDateTime;

        context.SetCustomStatus(new LabelBatchProgress("listing", 0, 0, 0, 0, 0, null));
        var plan = await context.CallActivityAsync<ChunkPlan>(OrchestrationNames.ListAndChunk,
            new ListAndChunkInput(input.Batch, input.Container, input.Prefix ?? input.Batch + "/", input.ChunkSize), retry);
        OrchestrationLog.BatchPlanned(logger, input.Batch, plan.Images, plan.Chunks);

        DateTime fanOutStarted = context.CurrentUtcDateTime;
        context.SetCustomStatus(Progress("labeling", plan, new DoneChunkCount(0, 0), TimeSpan.Zero));
        ChunkGroupResult[] groups = plan.Chunks == 0 ? [] : await RunGroupsAsync(context, input, plan, fanOutStarted, retry);

        ChunkTotals totals = groups.Aggregate(ChunkTotals.None, (sum, group) => sum.Add(group.Totals));
        int resends = groups.Sum(g => g.Resends);
        double labelSeconds = (context.CurrentUtcDateTime - fanOutStarted).TotalSeconds;
        context.SetCustomStatus(Progress("reporting", plan, new DoneChunkCount(plan.Chunks, plan.Images), context.CurrentUtcDateTime - fanOutStarted));
        BatchReportResult report = await context.CallActivityAsync<BatchReportResult>(OrchestrationNames.WriteBatchReport,
            new WriteBatchReportInput(input.Batch, input.MinConfidence, totals, labelSeconds, plan.Chunks), retry);

        double seconds = (context.CurrentUtcDateTime - started).TotalSeconds;
        context.SetCustomStatus(Progress("done", plan, new DoneChunkCount(plan.Chunks, plan.Images), context.CurrentUtcDateTime - fanOutStarted));
        OrchestrationLog.BatchDone(logger, input.Batch, plan.Images, report.Labeled, report.Rejected, resends, seconds);
        return new BatchResult(input.Batch, plan.Images, plan.Chunks, report.Labeled, report.Rejected, report.NeedsReview, totals.Failed,
            resends, seconds, labelSeconds > 0 ? plan.Images / labelSeconds : 0, report.SummaryBlob, totals.Vanished);
    }

    private static async Task<ChunkGroupResult[]> RunGroupsAsync(
        TaskOrchestrationContext context, LabelBatchInput input, ChunkPlan plan, DateTime fanOutStarted, TaskOptions retry)
    {
        int perGroup = Math.Max(1, input.ChunksPerGroup);
        var groups = new List<Task<ChunkGroupResult>>();
        for (int first = 0, index = 0; first < plan.Chunks; first += perGroup, index++)
        {
            var groupInput = new ChunkGroupInput(input.Batch, first, Math.Min(perGroup, plan.Chunks - first), input.CropMode,
                input.ChunkTimeoutSeconds, input.MaxResends, input.PollSeconds, input.PollsPerHistory);
            // ':' never occurs in a batch id, so these ids cannot collide with another batch's. No retry policy: a
            // group fails only once its own resends are spent, and running it again would just wait that long again.
            string instanceId = string.Create(CultureInfo.InvariantCulture, $"{input.Batch}:g{index:D4}");
            groups.Add(context.CallSubOrchestratorAsync<ChunkGroupResult>(OrchestrationNames.LabelChunkGroup, groupInput, new SubOrchestrationOptions(instanceId: instanceId)));
        }

        Task<ChunkGroupResult[]> all = Task.WhenAll(groups);
        TimeSpan minPoll = TimeSpan.FromSeconds(Math.Max(1, input.PollSeconds));
        while (!all.IsCompleted)
        {
            TimeSpan elapsed = context.CurrentUtcDateTime - fanOutStarted;
            TimeSpan wait = TimeSpan.FromTicks(Math.Clamp((long)(elapsed.Ticks * ProgressPollFraction), minPoll.Ticks, Math.Max(minPoll.Ticks, MaxProgressPoll.Ticks)));
            using var cancelTimer = new CancellationTokenSource();
            Task timer = context.CreateTimer(context.CurrentUtcDateTime + wait, cancelTimer.Token);
            if (await Task.WhenAny(all, timer) == all)
            {
                // Cancel synchronously: CancelAsync would finish on the thread pool, outside the orchestration's
                // scheduler, and the episode would end with the orchestration waiting on nothing.
                cancelTimer.Cancel();
                break;
            }
            DoneChunkCount done = await context.CallActivityAsync<DoneChunkCount>(OrchestrationNames.CountDoneChunks, new CountDoneChunksInput(input.Batch, plan), retry);
            context.SetCustomStatus(Progress("labeling", plan, done, context.CurrentUtcDateTime - fanOutStarted));
        }

        try
        {
            return await all;
        }
        catch (TaskFailedException failed)
        {
            // The group's own message says which chunks and why; the wrapper's adds only the task number.
            throw new ChunksNotDoneException(failed.FailureDetails.ErrorMessage);
        }
    }

    private static LabelBatchProgress Progress(string phase, ChunkPlan plan, DoneChunkCount done, TimeSpan elapsed)
    {
        double rate = elapsed.TotalSeconds > 0 ? done.ImagesDone / elapsed.TotalSeconds : 0;
        int? eta = rate > 0 ? (int)Math.Ceiling((plan.Images - done.ImagesDone) / rate) : null;
        return new LabelBatchProgress(phase, done.ChunksDone, plan.Chunks, done.ImagesDone, plan.Images, Math.Round(rate, 1), eta);
    }
}
