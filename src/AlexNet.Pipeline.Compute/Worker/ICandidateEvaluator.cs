using AlexNet.Pipeline.Contracts;

namespace AlexNet.Pipeline.Worker;

/// <summary>
/// Scores a candidate model and the current one on the same validation images, in the train job that made the
/// candidate (it has the data and the devices). The default is <see cref="ValidationSetEvaluator"/>; tests decide
/// which model is better through this seam.
/// </summary>
public interface ICandidateEvaluator
{
    Task<ModelComparison> CompareAsync(EvaluateCandidateInput input, CancellationToken cancellationToken = default);
}
