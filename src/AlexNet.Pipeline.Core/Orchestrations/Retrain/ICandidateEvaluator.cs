namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// Scores a candidate model and the current one on the same validation images. The default is
/// <see cref="ValidationSetEvaluator"/>; the seam exists so a host can evaluate elsewhere (on the GPU worker) and so
/// tests can decide which model is better.
/// </summary>
public interface ICandidateEvaluator
{
    Task<ModelComparison> CompareAsync(EvaluateCandidateInput input, CancellationToken cancellationToken = default);
}
