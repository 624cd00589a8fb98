namespace AlexNet.Model.Training;

/// <summary>
/// The paper's schedule, counted in optimiser steps: start at a rate, divide it by 10 when validation error has not
/// improved for <see cref="PatienceSteps"/> steps, at most <see cref="MaxDrops"/> times. After the last drop, a further
/// plateau of the same length means training has converged. Before <see cref="WarmupSteps"/> steps the rate ramps up
/// linearly from a tenth of it.
/// </summary>
/// <remarks>
/// Counting in steps, not epochs, is what lets one default serve 1,000 images and 60,000: on a small set an epoch is
/// ten steps, and three epochs without a better validation error (the paper's idea of a plateau, on ImageNet's
/// 10,000 steps an epoch) came while the network was still at chance, so the rate fell to 1e-5 before anything was
/// learned (docs/training.md). The trainer sets <see cref="PatienceSteps"/> to at least its epochs of patience.
/// </remarks>
public sealed record PlateauSchedule
{
    public const double DropFactor = 10;

    /// <summary>Where the linear warm-up starts, as a fraction of <see cref="LearningRate"/>.</summary>
    public const double WarmupStart = 0.1;

    public required double LearningRate { get; init; }
    public required long PatienceSteps { get; init; }
    public required int MaxDrops { get; init; }
    public long WarmupSteps { get; init; }
    public int Drops { get; init; }
    public double BestValidationError { get; init; } = double.PositiveInfinity;

    /// <summary>The step of the last improvement or drop: a plateau is counted from there.</summary>
    public long PlateauStartStep { get; init; }

    /// <summary>The rate of optimiser step <paramref name="step"/> (0-based): <see cref="LearningRate"/> once warmed up.</summary>
    public double RateAt(long step) =>
        step >= WarmupSteps ? LearningRate : LearningRate * (WarmupStart + (1 - WarmupStart) * (step + 1) / WarmupSteps);

    /// <summary>
    /// The schedule after a validation that ended with <paramref name="validationError"/> once <paramref name="step"/>
    /// steps were done, and whether training has converged.
    /// </summary>
    public (PlateauSchedule Next, bool Converged) Observe(double validationError, long step)
    {
        if (validationError < BestValidationError)
            return (this with { BestValidationError = validationError, PlateauStartStep = step }, false);
        if (step - PlateauStartStep < PatienceSteps)
            return (this, false);
        if (Drops >= MaxDrops)
            return (this, true);
        return (this with { LearningRate = LearningRate / DropFactor, Drops = Drops + 1, PlateauStartStep = step }, false);
    }
}
