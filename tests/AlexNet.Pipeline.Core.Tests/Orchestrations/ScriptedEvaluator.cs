using System.Collections.Concurrent;
using AlexNet.Pipeline.Orchestrations;

namespace AlexNet.Pipeline.Tests.Orchestrations;

/// <summary>An <see cref="ICandidateEvaluator"/> whose scores the test decides, one (candidate, current) top-5 error pair per call.</summary>
internal sealed class ScriptedEvaluator(params (double Candidate, double Current)[] script) : ICandidateEvaluator
{
    private readonly ConcurrentQueue<(double Candidate, double Current)> script = new(script);

    public ConcurrentQueue<EvaluateCandidateInput> Calls { get; } = new();

    public Task<ModelComparison> CompareAsync(EvaluateCandidateInput input, CancellationToken cancellationToken = default)
    {
        Calls.Enqueue(input);
        if (!script.TryDequeue(out var scores))
            throw new InvalidOperationException("the test scripted fewer evaluations than the orchestration asked for");
        return Task.FromResult(new ModelComparison(
            "scripted",
            100,
            new ModelScore(input.CandidateVersion, 100, scores.Candidate + 0.2, scores.Candidate, 1.0),
            input.CurrentVersion is null ? null : new ModelScore(input.CurrentVersion, 100, scores.Current + 0.2, scores.Current, 1.0),
            [new LabelChange("shirt/1.png", "shirt", "shirt", "coat"), new LabelChange("coat/2.png", "coat", "shirt", "coat")],
            100));
    }
}
