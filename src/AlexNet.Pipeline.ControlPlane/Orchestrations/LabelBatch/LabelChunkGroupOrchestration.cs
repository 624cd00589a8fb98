using System.Globalization;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// Sends a group of chunks and waits for their done markers: a durable timer, then <c>CheckChunks</c> on the chunks
/// still missing. When none of them finished for <see cref="ChunkGroupInput.ChunkTimeoutSeconds"/>, the missing ones
/// are sent again (new message ids), at most <see cref="ChunkGroupInput.MaxResends"/> times; after that the group
/// fails and names them. Every <see cref="ChunkGroupInput.PollsPerHistory"/> polls it continues as new with its state,
/// so a wait of hours keeps a short history.
/// </summary>
[DurableTask(OrchestrationNames.LabelChunkGroup)]
public sealed class LabelChunkGroupOrchestration : TaskOrchestrator<ChunkGroupInput, ChunkGroupResult>
{
    public override async Task<ChunkGroupResult> RunAsync(TaskOrchestrationContext context, ChunkGroupInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        ILogger logger = context.CreateReplaySafeLogger<LabelChunkGroupOrchestration>();
        TaskOptions retry = ActivityRetry.Default;

        ChunkGroupState? state = input.State;
        if (state is null)
        {
            int[] chunks = Enumerable.Range(input.First, input.Count).ToArray();
            await context.CallActivityAsync<int>(OrchestrationNames.SendChunks, new SendChunksInput(input.Batch, chunks, 0, input.CropMode), retry);
            state = new ChunkGroupState(chunks, ChunkTotals.None, context.CurrentUtcDateTime, 0);
        }

        TimeSpan poll = TimeSpan.FromSeconds(Math.Max(1, input.PollSeconds));
        TimeSpan timeout = TimeSpan.FromSeconds(Math.Max(1, input.ChunkTimeoutSeconds));
        for (int polls = 0; state.Missing.Count > 0; polls++)
        {
            if (polls >= Math.Max(1, input.PollsPerHistory))
            {
                context.ContinueAsNew(input with { State = state });
                return null!;
            }

            await context.CreateTimer(context.CurrentUtcDateTime + poll, CancellationToken.None);
            ChunkCheck check = await context.CallActivityAsync<ChunkCheck>(
                OrchestrationNames.CheckChunks, new CheckChunksInput(input.Batch, state.Missing), retry);
            if (check.Done.Count > 0)
            {
                var done = check.Done.ToHashSet();
                state = state with
                {
                    Missing = state.Missing.Where(c => !done.Contains(c)).ToArray(),
                    Totals = state.Totals.Add(check.Totals),
                    LastChangeAt = context.CurrentUtcDateTime,
                };
                continue;
            }

            if (context.CurrentUtcDateTime - state.LastChangeAt < timeout)
                continue;
            if (state.Resends >= input.MaxResends)
            {
                throw new ChunksNotDoneException(
                    $"batch {input.Batch}: {state.Missing.Count} chunk(s) ({Describe(state.Missing)}) had no done marker " +
                    $"after {state.Resends} resend(s) and {input.ChunkTimeoutSeconds} s of waiting each; is a worker receiving from " +
                    $"the label queue (Messaging:LabelQueue)? Look for its dead letters and for errors in the worker's log.");
            }

            int attempt = state.Resends + 1;
            OrchestrationLog.Resending(logger, input.Batch, state.Missing.Count, attempt, input.MaxResends);
            await context.CallActivityAsync<int>(OrchestrationNames.SendChunks, new SendChunksInput(input.Batch, state.Missing, attempt, input.CropMode), retry);
            state = state with { Resends = attempt, LastChangeAt = context.CurrentUtcDateTime };
        }

        return new ChunkGroupResult(input.First, input.Count, state.Totals, state.Resends);
    }

    private static string Describe(IReadOnlyList<int> chunks) =>
        string.Join(", ", chunks.Take(5).Select(ChunkPlan.ChunkId)) + (chunks.Count > 5 ? string.Create(CultureInfo.InvariantCulture, $", and {chunks.Count - 5} more") : "");
}

/// <summary>Chunks of a batch that never completed, even after their resends.</summary>
public sealed class ChunksNotDoneException(string message) : TimeoutException(message);
