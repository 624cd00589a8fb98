using AlexNet.Model.Training;

namespace AlexNet.Pipeline.Contracts;

/// <summary>
/// How a train job's settings become <see cref="TrainingOptions"/>: null settings take the recipe's defaults. The API
/// validates a retrain request with it and the worker trains with it, so the two cannot disagree.
/// </summary>
public static class TrainJobSettings
{
    /// <exception cref="ArgumentException">The recipe is unknown.</exception>
    public static TrainingOptions ToTrainingOptions(this TrainJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        TrainingOptions defaults = TrainingOptions.For(job.Recipe is { } recipe ? TrainingOptions.ParseRecipe(recipe) : TrainingRecipe.Default);
        return defaults with
        {
            Epochs = job.Epochs ?? defaults.Epochs,
            BatchSize = job.BatchSize ?? defaults.BatchSize,
            LearningRate = job.LearningRate ?? defaults.LearningRate,
            InputSize = job.InputSize ?? defaults.InputSize,
            BaseSize = job.BaseSize ?? defaults.BaseSize,
            Seed = job.Seed,
        };
    }
}
