using AlexNet.Pipeline.Contracts;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// Retrains on a data set and promotes the result only when it is no worse: <c>Fingerprint</c> (skip when the training
/// set is what the current model was trained on, unless forced), <c>SubmitTrainJob</c>, <see cref="WaitForTrainDoneOrchestration"/>,
/// <c>EvaluateCandidate</c> (candidate and current on the same validation images), the gate, <c>Promote</c>, and
/// <c>WriteRetrainReport</c> (<c>runs/&lt;job&gt;/metrics.json</c>). The job id is the instance id; the candidate
/// version comes from the data set, the orchestration's start time and the instance id.
/// </summary>
/// <remarks>
/// Gate (QUALITY.md): promote when there is no current model, or when the candidate's top-5 error is at most the
/// current's plus <see cref="RetrainInput.GateTop5Points"/> percentage points. A rejected candidate stays published
/// under its version (it can still be promoted by hand) but does not become current.
/// </remarks>
[DurableTask(OrchestrationNames.Retrain)]
public sealed class RetrainOrchestration : TaskOrchestrator<RetrainInput, RetrainResult>
{
    private const int PollsPerHistory = 60;

    /// <summary>Errors are computed from image counts; this keeps an exact tie at the gate a tie.</summary>
    private const double GateTolerance = 1e-9;

    public override async Task<RetrainResult> RunAsync(TaskOrchestrationContext context, RetrainInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        RetrainNames.ValidateDataset(input.Dataset);
        ILogger logger = context.CreateReplaySafeLogger<RetrainOrchestration>();
        TaskOptions retry = ActivityRetry.Default;
        DateTime started = context.CurrentUtcDateTime;

        context.SetCustomStatus(new RetrainProgress("fingerprinting", null, null));
        FingerprintResult fingerprint = await context.CallActivityAsync<FingerprintResult>(OrchestrationNames.Fingerprint, input.Dataset, retry);
        if (!input.Force && fingerprint.CurrentFingerprint == fingerprint.Fingerprint)
        {
            string why = $"training/{input.Dataset}/ is unchanged since model {fingerprint.CurrentVersion} was trained on it (fingerprint {fingerprint.Fingerprint})";
            RetrainLog.Skipped(logger, input.Dataset, why);
            context.SetCustomStatus(new RetrainProgress("done", null, null));
            return new RetrainResult(RetrainOutcome.Skipped, input.Dataset, fingerprint.Fingerprint, null, null, fingerprint.CurrentVersion,
                null, null, null, null, null, null, why, null);
        }

        string jobId = RetrainNames.JobId(context.InstanceId);
        string candidate = RetrainNames.CandidateVersion(input.Dataset, context.InstanceId, started);
        var job = new TrainJob(jobId, input.Dataset, candidate, fingerprint.CurrentVersion, fingerprint.Fingerprint, input.Epochs, input.InputSize,
            input.BaseSize, input.BatchSize, input.LearningRate, input.Seed, new DateTimeOffset(started, TimeSpan.Zero));
        context.SetCustomStatus(new RetrainProgress("training", jobId, candidate));
        await context.CallActivityAsync<string>(OrchestrationNames.SubmitTrainJob, job, retry);
        RetrainLog.Submitted(logger, jobId, candidate, fingerprint.Images, fingerprint.Classes);

        var wait = new TrainWaitInput(jobId, context.CurrentUtcDateTime.AddMinutes(input.TrainTimeoutMinutes), input.PollSeconds, PollsPerHistory);
        TrainDone done = await context.CallSubOrchestratorAsync<TrainDone>(OrchestrationNames.WaitForTrainDone, wait,
            new SubOrchestrationOptions(instanceId: context.InstanceId + ":train"));
        if (!done.Succeeded)
        {
            string why = $"train job {jobId} failed: {done.Error ?? "no error given"}";
            await WriteReportAsync(context, new RetrainReport(jobId, input.Dataset, "training-failed", why, fingerprint.Fingerprint, candidate,
                fingerprint.CurrentVersion, input.GateTop5Points, null, null, done.Metrics, done.Error, context.CurrentUtcDateTime), retry);
            throw new InvalidOperationException(why);
        }

        context.SetCustomStatus(new RetrainProgress("evaluating", jobId, candidate));
        EvaluationSummary evaluation = await context.CallActivityAsync<EvaluationSummary>(OrchestrationNames.EvaluateCandidate,
            new EvaluateCandidateInput(jobId, input.Dataset, candidate, fingerprint.CurrentVersion, input.Seed), retry);

        var (passes, gateReason) = Gate(evaluation, input.GateTop5Points);
        RetrainOutcome outcome = RetrainOutcome.Rejected;
        string reason = gateReason;
        if (passes)
        {
            context.SetCustomStatus(new RetrainProgress("promoting", jobId, candidate));
            PromoteResult promotion = await context.CallActivityAsync<PromoteResult>(OrchestrationNames.Promote,
                new PromoteInput(candidate, fingerprint.CurrentVersion, $"retrain {jobId}: {gateReason}"), retry);
            outcome = promotion.Promoted ? RetrainOutcome.Promoted : RetrainOutcome.Rejected;
            reason = promotion.Promoted ? gateReason : promotion.Reason;
        }

        context.SetCustomStatus(new RetrainProgress("reporting", jobId, candidate));
        double? churn = evaluation.Compared > 0 ? (double)evaluation.Top1Changed / evaluation.Compared : null;
        string metrics = await WriteReportAsync(context, new RetrainReport(jobId, input.Dataset, outcome.ToString().ToLowerInvariant(), reason,
            fingerprint.Fingerprint, candidate, fingerprint.CurrentVersion, input.GateTop5Points, evaluation, churn, done.Metrics, null,
            context.CurrentUtcDateTime), retry);
        RetrainLog.Decided(logger, jobId, candidate, outcome, reason);
        context.SetCustomStatus(new RetrainProgress("done", jobId, candidate));

        return new RetrainResult(outcome, input.Dataset, fingerprint.Fingerprint, jobId, candidate, fingerprint.CurrentVersion,
            evaluation.Candidate.Top1Error, evaluation.Candidate.Top5Error, evaluation.Current?.Top1Error, evaluation.Current?.Top5Error,
            evaluation.Images, evaluation.Current is null ? null : evaluation.Top1Changed, reason, metrics);
    }

    /// <summary>The promotion gate of QUALITY.md, with the reason in words.</summary>
    public static (bool Passes, string Reason) Gate(EvaluationSummary evaluation, double gateTop5Points)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        ModelScore candidate = evaluation.Candidate;
        if (evaluation.Current is not { } current)
            return (true, $"no current model; candidate top-5 error {candidate.Top5Error:P2} on {evaluation.Images} validation images");
        double allowed = current.Top5Error + gateTop5Points / 100;
        bool passes = candidate.Top5Error <= allowed + GateTolerance;
        string comparison = $"candidate top-5 error {candidate.Top5Error:P2} vs current {current.Top5Error:P2} (+{gateTop5Points} points allowed) on {evaluation.Images} validation images";
        return (passes, (passes ? "passed the gate: " : "failed the gate: ") + comparison);
    }

    private static Task<string> WriteReportAsync(TaskOrchestrationContext context, RetrainReport report, TaskOptions retry) =>
        context.CallActivityAsync<string>(OrchestrationNames.WriteRetrainReport, new WriteRetrainReportInput(report), retry);
}

internal static partial class RetrainLog
{
    [LoggerMessage(1, LogLevel.Information, "Retrain of {Dataset} skipped: {Reason}")]
    public static partial void Skipped(ILogger logger, string dataset, string reason);

    [LoggerMessage(2, LogLevel.Information, "Train job {JobId} submitted for candidate {Candidate} ({Images} images, {Classes} classes)")]
    public static partial void Submitted(ILogger logger, string jobId, string candidate, int images, int classes);

    [LoggerMessage(3, LogLevel.Information, "Train job {JobId}: candidate {Candidate} {Outcome}: {Reason}")]
    public static partial void Decided(ILogger logger, string jobId, string candidate, RetrainOutcome outcome, string reason);
}
