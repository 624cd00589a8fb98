using AlexNet.Pipeline.Contracts;
using Microsoft.DurableTask;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// Waits for <c>runs/&lt;job&gt;/train-done.json</c>: a durable timer, then <c>CheckTrainDone</c>, until it appears or
/// the deadline passes. Training takes hours, so every <see cref="TrainWaitInput.PollsPerHistory"/> polls it continues
/// as new and its history starts over.
/// </summary>
[DurableTask(OrchestrationNames.WaitForTrainDone)]
public sealed class WaitForTrainDoneOrchestration : TaskOrchestrator<TrainWaitInput, TrainDone>
{
    public override async Task<TrainDone> RunAsync(TaskOrchestrationContext context, TrainWaitInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        TimeSpan poll = TimeSpan.FromSeconds(Math.Max(1, input.PollSeconds));
        for (int polls = 0; ; polls++)
        {
            if (polls >= Math.Max(1, input.PollsPerHistory))
            {
                context.ContinueAsNew(input);
                return null!;
            }

            TrainDone? done = await context.CallActivityAsync<TrainDone?>(OrchestrationNames.CheckTrainDone, input.JobId, ActivityRetry.Default);
            if (done is not null)
                return done;
            if (context.CurrentUtcDateTime >= input.Deadline)
            {
                throw new TimeoutException(
                    $"train job {input.JobId}: no runs/{PipelineNames.TrainDoneBlob(input.JobId)} by {input.Deadline:u}; is a worker receiving from " +
                    $"the train queue (Messaging:TrainQueue)? Look at its log and the queue's dead letters.");
            }

            DateTime next = context.CurrentUtcDateTime + poll;
            await context.CreateTimer(next < input.Deadline ? next : input.Deadline, CancellationToken.None);
        }
    }
}
