using AlexNet.Model.Evaluation;
using AlexNet.Model.Packaging;

namespace AlexNet.Model.Training;

/// <summary>What the trainer is doing.</summary>
public enum TrainingPhase
{
    Loading,
    Training,
    Validating,
    Checkpointing,
    Packaging,
}

/// <summary>A progress report: where training stands, the running loss of the epoch and the speed.</summary>
public sealed record TrainingProgress(
    TrainingPhase Phase,
    int Epoch,
    int Epochs,
    int Step,
    int StepsPerEpoch,
    double Loss,
    double ImagesPerSecond,
    TimeSpan Elapsed,
    TimeSpan? Remaining,
    string? Message = null);

/// <summary>The end of a run that did not fail.</summary>
/// <param name="FinalValidation">Validation of the packaged weights: those of <paramref name="BestEpoch"/>.</param>
/// <param name="BestEpoch">The epoch whose weights the package holds; null when the run stopped before its first epoch ended.</param>
/// <param name="FineTunedFrom">The package training started from; null from scratch.</param>
public sealed record TrainingResult(
    TrainingOutcome Outcome,
    string Version,
    int CompletedEpochs,
    int ResumedAtEpoch,
    int ResumedAtStep,
    IReadOnlyList<EpochMetrics> History,
    EvaluationReport FinalValidation,
    string ModelDirectory,
    int TrainImages,
    int ValidationImages,
    int RejectedImages,
    int? BestEpoch,
    FineTuneLineage? FineTunedFrom);

/// <summary>
/// The loss became NaN or infinite (or absurdly large): training stopped, the last good checkpoint is left as it
/// was and no model package was written.
/// </summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
