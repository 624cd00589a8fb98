namespace AlexNet.Model.Training;

/// <summary>
/// The paper's schedule: start at a rate, divide it by 10 when validation error has not improved for
/// <see cref="Patience"/> epochs, at most <see cref="MaxDrops"/> times. After the last drop, a further plateau of
/// the same length means training has converged.
/// </summary>
public sealed record PlateauSchedule
{
    public const double DropFactor = 10;

    public required double LearningRate { get; init; }
    public required int Patience { get; init; }
    public required int MaxDrops { get; init; }
    public int Drops { get; init; }
    public double BestValidationError { get; init; } = double.PositiveInfinity;
    public int EpochsWithoutImprovement { get; init; }

    /// <summary>The schedule after an epoch that ended with <paramref name="validationError"/>, and whether training has converged.</summary>
    public (PlateauSchedule Next, bool Converged) Observe(double validationError)
    {
        if (validationError < BestValidationError)
            return (this with { BestValidationError = validationError, EpochsWithoutImprovement = 0 }, false);
        int waited = EpochsWithoutImprovement + 1;
        if (waited < Patience)
            return (this with { EpochsWithoutImprovement = waited }, false);
        if (Drops >= MaxDrops)
            return (this with { EpochsWithoutImprovement = waited }, true);
        return (this with { LearningRate = LearningRate / DropFactor, Drops = Drops + 1, EpochsWithoutImprovement = 0 }, false);
    }
}
