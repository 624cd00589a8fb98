using AlexNet.Pipeline.Orchestrations;

namespace AlexNet.Pipeline.Tests.Orchestrations;

/// <summary>The promotion gate of QUALITY.md: no worse in top-5 error than the current model, within the allowed points.</summary>
public sealed class PromotionGateTests
{
    [Theory]
    [InlineData(0.100, 0.100, true)]
    [InlineData(0.105, 0.100, true)]
    [InlineData(0.106, 0.100, false)]
    [InlineData(0.050, 0.100, true)]
    [InlineData(0.300, 0.100, false)]
    public void CandidateIsPromotedOnlyWithinHalfAPointOfTheCurrentTop5Error(double candidate, double current, bool passes)
    {
        var (passed, reason) = RetrainOrchestration.Gate(Summary(candidate, current), gateTop5Points: 0.5);

        Assert.Equal(passes, passed);
        Assert.StartsWith(passes ? "passed the gate" : "failed the gate", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void FirstModelIsPromotedWhateverItsError()
    {
        var (passed, reason) = RetrainOrchestration.Gate(Summary(0.9, null), gateTop5Points: 0.5);

        Assert.True(passed);
        Assert.Contains("no current model", reason, StringComparison.Ordinal);
    }

    private static EvaluationSummary Summary(double candidate, double? current) => new(
        "test",
        1000,
        new ModelScore("candidate", 1000, candidate, candidate, 1),
        current is null ? null : new ModelScore("current", 1000, current.Value, current.Value, 1),
        0,
        1000,
        []);
}
