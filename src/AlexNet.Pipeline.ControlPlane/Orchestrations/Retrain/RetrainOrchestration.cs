using System.Globalization;
using AlexNet.Pipeline.Contracts;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// Retrains on a data set and promotes the result only when it learned and is no worse: <c>Fingerprint</c> (skip when
/// the training set is what the current model was trained on, unless forced), <c>SubmitTrainJob</c>,
/// <see cref="WaitForTrainDoneOrchestration"/> (the worker trains, then scores candidate and current on the same
/// validation images and writes the evidence into <c>runs/&lt;job&gt;/</c>), the gate, <c>Promote</c>, and
/// <c>WriteRetrainReport</c> (<c>runs/&lt;job&gt;/metrics.json</c>, written for every outcome, failures included). The
/// job id is the instance id; the candidate version comes from the data set, the orchestration's start time and the
/// instance id. Nothing here runs the network: the Functions app that hosts this has no libtorch.
/// </summary>
/// <remarks>
/// Gate (<see cref="Gate"/>): a candidate must clearly beat always answering the most common validation class, and
/// must not be worse than the current model by more than <see cref="RetrainInput.GatePoints"/> points of top-1 error
/// (and of top-5 error where there are enough classes for top-5 to mean something). A refused or rejected candidate
/// stays published under its version (it can still be promoted by hand) but does not become current.
/// </remarks>
[DurableTask(OrchestrationNames.Retrain)]
public sealed class RetrainOrchestration : TaskOrchestrator<RetrainInput, RetrainResult>
{
    private const int PollsPerHistory = 60;

    /// <summary>Errors are computed from image counts; this keeps an exact tie at the gate a tie.</summary>
    private const double GateTolerance = 1e-9;

    /// <summary>
    /// A first model must beat the majority-class error by this many standard errors of that error on the validation
    /// set (a one-sided test at about 0.1 %), and by at least <see cref="MinFloorMargin"/>.
    /// </summary>
    public const double FloorStandardErrors = 3;

    public const double MinFloorMargin = 0.05;

    /// <summary>A validation loss above this fraction of ln(classes), chance's loss, means the model has not learned.</summary>
    public const double MaxLossFractionOfChance = 0.9;

    /// <summary>Top-5 is compared only from this many classes on: with 10, top-5 error is near 0 for every model.</summary>
    public const int Top5MeaningfulClasses = 20;

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
        if (!input.Force && input.Candidate is null && fingerprint.CurrentFingerprint == fingerprint.Fingerprint)
        {
            string why = $"training/{input.Dataset}/ is unchanged since model {fingerprint.CurrentVersion} was trained on it (fingerprint {fingerprint.Fingerprint})";
            RetrainLog.Skipped(logger, input.Dataset, why);
            context.SetCustomStatus(new RetrainProgress("done", null, null));
            return new RetrainResult(RetrainOutcome.Skipped, input.Dataset, fingerprint.Fingerprint, null, null, fingerprint.CurrentVersion,
                null, null, null, null, null, null, why, null, fingerprint.Reviewed);
        }

        string jobId = RetrainNames.JobId(context.InstanceId);
        // A published candidate is only scored and gated: the worker finds it published and skips training.
        string candidate = input.Candidate ?? RetrainNames.CandidateVersion(input.Dataset, context.InstanceId, started);
        string phase = "training";
        TrainDone? done = null;
        try
        {
            var job = new TrainJob(jobId, input.Dataset, candidate, fingerprint.CurrentVersion, fingerprint.Fingerprint, input.Epochs, input.InputSize,
                input.BaseSize, input.BatchSize, input.LearningRate, input.Seed, new DateTimeOffset(started, TimeSpan.Zero), input.Recipe,
                FineTuneFrom: input.FromCurrent ? fingerprint.CurrentVersion : null);
            context.SetCustomStatus(new RetrainProgress(phase, jobId, candidate));
            await context.CallActivityAsync<string>(OrchestrationNames.SubmitTrainJob, job, retry);
            RetrainLog.Submitted(logger, jobId, candidate, fingerprint.Images, fingerprint.Classes);

            var wait = new TrainWaitInput(jobId, context.CurrentUtcDateTime.AddMinutes(input.TrainTimeoutMinutes), input.PollSeconds, PollsPerHistory);
            done = await context.CallSubOrchestratorAsync<TrainDone>(OrchestrationNames.WaitForTrainDone, wait,
                new SubOrchestrationOptions(instanceId: context.InstanceId + ":train"));
            if (!done.Succeeded)
                throw new InvalidOperationException($"train job {jobId} failed: {done.Error ?? "no error given"}");
            if (done.Evaluation is not { } evaluation)
                throw new InvalidDataException($"train job {jobId} succeeded without an evaluation of the candidate; is the worker older than this orchestration?");

            phase = "gating";
            var (verdict, gateReason) = Gate(evaluation, input.GatePoints);
            RetrainOutcome outcome = verdict;
            string reason = gateReason;
            if (verdict == RetrainOutcome.Promoted)
            {
                phase = "promoting";
                context.SetCustomStatus(new RetrainProgress(phase, jobId, candidate));
                PromoteResult promotion = await context.CallActivityAsync<PromoteResult>(OrchestrationNames.Promote,
                    new PromoteInput(candidate, fingerprint.CurrentVersion, $"retrain {jobId}: {gateReason}"), retry);
                outcome = promotion.Promoted ? RetrainOutcome.Promoted : RetrainOutcome.Rejected;
                reason = promotion.Promoted ? gateReason : promotion.Reason;
            }

            phase = "reporting";
            context.SetCustomStatus(new RetrainProgress(phase, jobId, candidate));
            double? churn = evaluation.Compared > 0 ? (double)evaluation.Top1Changed / evaluation.Compared : null;
            string metrics = await WriteReportAsync(context, new RetrainReport(jobId, input.Dataset, outcome.ToString().ToLowerInvariant(), reason,
                fingerprint.Fingerprint, candidate, fingerprint.CurrentVersion, input.GatePoints, evaluation, churn, done.Metrics, null,
                context.CurrentUtcDateTime, fingerprint.Reviewed), retry);
            RetrainLog.Decided(logger, jobId, candidate, outcome, reason);
            context.SetCustomStatus(new RetrainProgress("done", jobId, candidate));

            return new RetrainResult(outcome, input.Dataset, fingerprint.Fingerprint, jobId, candidate, fingerprint.CurrentVersion,
                evaluation.Candidate.Top1Error, evaluation.Candidate.Top5Error, evaluation.Current?.Top1Error, evaluation.Current?.Top5Error,
                evaluation.Images, evaluation.Current is null ? null : evaluation.Top1Changed, reason, metrics, fingerprint.Reviewed);
        }
        catch (Exception failure) when (failure is not OperationCanceledException)
        {
            // Whatever failed, the run leaves its report, and its status says where it stopped.
            string error = failure is TaskFailedException task ? task.FailureDetails.ErrorMessage : failure.Message;
            string why = $"retrain {jobId} failed while {phase}: {error}";
            context.SetCustomStatus(new RetrainProgress("failed", jobId, candidate));
            await WriteReportAsync(context, new RetrainReport(jobId, input.Dataset, phase == "training" ? "training-failed" : "failed", why,
                fingerprint.Fingerprint, candidate, fingerprint.CurrentVersion, input.GatePoints, done?.Evaluation, null, done?.Metrics,
                error, context.CurrentUtcDateTime, fingerprint.Reviewed), retry);
            RetrainLog.Failed(logger, jobId, phase, error);
            throw new InvalidOperationException(why, failure);
        }
    }

    /// <summary>
    /// The promotion gate, with the reason in words: <see cref="RetrainOutcome.Refused"/> when the candidate did not
    /// clearly learn (its top-1 error not below the majority-class error by <see cref="FloorMargin"/>, or its loss near
    /// chance's), <see cref="RetrainOutcome.Rejected"/> when it is worse than the current model by more than
    /// <paramref name="gatePoints"/> points, otherwise <see cref="RetrainOutcome.Promoted"/>.
    /// </summary>
    public static (RetrainOutcome Verdict, string Reason) Gate(EvaluationSummary evaluation, double gatePoints)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        ModelScore candidate = evaluation.Candidate;
        int classes = Math.Max(2, evaluation.Classes);
        double chanceLoss = Math.Log(classes);
        double floor = evaluation.MajorityTop1Error - FloorMargin(evaluation.MajorityTop1Error, evaluation.Images);
        string figures = string.Create(CultureInfo.InvariantCulture,
            $"candidate top-1 error {candidate.Top1Error:P2}, loss {candidate.Loss:F3} on {evaluation.Images} validation images of {classes} classes; always answering the most common class: {evaluation.MajorityTop1Error:P2}, chance loss ln({classes}) = {chanceLoss:F3}");
        if (!(candidate.Top1Error <= floor + GateTolerance))
            return (RetrainOutcome.Refused, $"refused: the candidate did not clearly beat the majority-class baseline (top-1 error must be at most {floor:P2}): {figures}");
        if (!(candidate.Loss <= MaxLossFractionOfChance * chanceLoss))
            return (RetrainOutcome.Refused, $"refused: the candidate's validation loss is near chance's (must be at most {MaxLossFractionOfChance:P0} of ln({classes})): {figures}");
        if (evaluation.Current is not { } current)
            return (RetrainOutcome.Promoted, $"{evaluation.CurrentNotScored ?? "no current model"}; the candidate beat the baseline: {figures}");

        bool top5Counts = classes >= Top5MeaningfulClasses;
        bool top1Passes = candidate.Top1Error <= current.Top1Error + gatePoints / 100 + GateTolerance;
        bool top5Passes = !top5Counts || candidate.Top5Error <= current.Top5Error + gatePoints / 100 + GateTolerance;
        string top5 = top5Counts
            ? string.Create(CultureInfo.InvariantCulture, $", top-5 {candidate.Top5Error:P2} vs {current.Top5Error:P2}")
            : $" (top-5 not compared below {Top5MeaningfulClasses} classes)";
        string comparison = string.Create(CultureInfo.InvariantCulture,
            $"candidate top-1 error {candidate.Top1Error:P2} vs current {current.Top1Error:P2}{top5}, +{gatePoints} points allowed, on {evaluation.Images} validation images");
        return top1Passes && top5Passes
            ? (RetrainOutcome.Promoted, "passed the gate: " + comparison)
            : (RetrainOutcome.Rejected, "failed the gate: " + comparison);
    }

    /// <summary>How far below the majority-class error a first model must be: <see cref="FloorStandardErrors"/> binomial standard errors, at least <see cref="MinFloorMargin"/>.</summary>
    public static double FloorMargin(double majorityError, int images) =>
        Math.Max(MinFloorMargin, FloorStandardErrors * Math.Sqrt(majorityError * (1 - majorityError) / Math.Max(1, images)));

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

    [LoggerMessage(4, LogLevel.Error, "Retrain {JobId} failed while {Phase}: {Error}")]
    public static partial void Failed(ILogger logger, string jobId, string phase, string error);
}
