using System.Text.Json;
using System.Text.Json.Serialization;
using AlexNet.Model.Evaluation;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;

namespace AlexNet.Model.Training;

/// <summary>One finished epoch as written to <c>metrics.json</c>. Errors are fractions; time in seconds.</summary>
public sealed record EpochMetrics(
    int Epoch,
    int Steps,
    double TrainLoss,
    double TrainTop1Error,
    double TrainTop5Error,
    double ValidationLoss,
    double ValidationTop1Error,
    double ValidationTop5Error,
    double LearningRate,
    double ImagesPerSecond,
    double EpochSeconds);

/// <summary>Running sums of the epoch in progress, so an epoch resumed half-way still reports whole-epoch figures.</summary>
public sealed record EpochProgress(double LossSum, long Top1Hits, long Top5Hits, long Images, double Seconds)
{
    public static EpochProgress Empty { get; } = new(0, 0, 0, 0, 0);
}

/// <summary>
/// The epoch whose weights the model package gets: the lowest validation top-1 error, ties going to the lower validation
/// loss (an earlier epoch keeps its place on a full tie).
/// </summary>
public sealed record BestEpoch(int Epoch, double ValidationTop1Error, double ValidationLoss)
{
    /// <summary>Whether a validation with these figures beats this epoch.</summary>
    public bool IsBeatenBy(double validationTop1Error, double validationLoss) =>
        validationTop1Error < ValidationTop1Error || (validationTop1Error == ValidationTop1Error && validationLoss < ValidationLoss);
}

/// <summary>
/// Everything a checkpoint holds besides tensors: position (epochs done, steps done in the next one), the
/// schedule, the torch generator's state, the data's colour statistics and fingerprint, and the history.
/// </summary>
public sealed record TrainingState
{
    /// <summary>
    /// 3: the best epoch and its weights, the input std and the fine-tuning parent are kept. 2: the schedule counts
    /// steps, and the batch size and recipe are kept (format 1 counted epochs).
    /// </summary>
    public const int CurrentFormat = 3;

    public int Format { get; init; } = CurrentFormat;
    public required int CompletedEpochs { get; init; }
    public required int StepInEpoch { get; init; }
    public required long GlobalStep { get; init; }
    public required PlateauSchedule Schedule { get; init; }
    public required int Seed { get; init; }
    public required IReadOnlyList<string> Classes { get; init; }
    public required int InputSize { get; init; }
    public required int BaseSize { get; init; }
    public required int BatchSize { get; init; }
    public TrainingRecipe Recipe { get; init; }
    public required AlexNetLayout Layout { get; init; }
    public required float[] Mean { get; init; }

    /// <summary>What inputs are divided by after the mean is subtracted; null: nothing (the paper's recipe).</summary>
    public required float[]? Std { get; init; }

    public required PcaBasis Pca { get; init; }

    /// <summary>The package the run's first weights came from; null when it started from random weights.</summary>
    public FineTuneLineage? FineTunedFrom { get; init; }

    /// <summary>The best epoch so far, whose weights the checkpoint keeps (<see cref="TrainingCheckpoint"/>); null before the first.</summary>
    public BestEpoch? Best { get; init; }
    public required string DataFingerprint { get; init; }
    public required string Version { get; init; }

    /// <summary>torch's global generator (dropout masks), as saved by <c>torch.random.get_rng_state</c>.</summary>
    public required byte[] TorchRngState { get; init; }

    public required IReadOnlyList<EpochMetrics> History { get; init; }
    public EpochProgress Partial { get; init; } = EpochProgress.Empty;
    public DateTimeOffset SavedAt { get; init; }
}

/// <summary>How a training run ended without an error.</summary>
public enum TrainingOutcome
{
    /// <summary>All requested epochs ran.</summary>
    Completed,

    /// <summary>The schedule had dropped the rate as often as allowed and validation stopped improving.</summary>
    Converged,

    /// <summary>The time budget ran out; <c>--resume</c> continues.</summary>
    TimeBudgetReached,
}

/// <summary><c>metrics.json</c> of a run.</summary>
/// <param name="BestEpoch">The epoch whose weights the model package holds (null before the first epoch ends).</param>
/// <param name="FinalValidation">Validation of the packaged weights: the best epoch's.</param>
public sealed record RunMetrics(
    string Version,
    string Outcome,
    int? BestEpoch,
    IReadOnlyList<EpochMetrics> Epochs,
    EvaluationReport? FinalValidation);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, UseStringEnumConverter = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(TrainingState))]
[JsonSerializable(typeof(RunMetrics))]
[JsonSerializable(typeof(EvaluationReport))]
public sealed partial class TrainingJsonContext : JsonSerializerContext;
