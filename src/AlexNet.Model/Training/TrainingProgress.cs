using AlexNet.Model.Evaluation;

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
    int RejectedImages);

/// <summary>
/// The loss became NaN or infinite (or absurdly large): training stopped, the last good checkpoint is left as it
/// was and no model package was written.
/// </summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
