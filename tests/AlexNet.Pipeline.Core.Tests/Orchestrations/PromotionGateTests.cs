using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Orchestrations;

namespace AlexNet.Pipeline.Tests.Orchestrations;

/// <summary>The promotion gate: a floor over the majority-class baseline, then no worse than the current model.</summary>
public sealed class PromotionGateTests
{
    [Theory]
    [InlineData(0.200, 0.200, true)]
    [InlineData(0.205, 0.200, true)]
    [InlineData(0.206, 0.200, false)]
    [InlineData(0.150, 0.200, true)]
    [InlineData(0.400, 0.200, false)]
    public void CandidateIsPromotedOnlyWithinHalfAPointOfTheCurrentTop1Error(double candidate, double current, bool passes)
    {
        var (verdict, reason) = RetrainOrchestration.Gate(Summary(candidate, current, classes: 10), gatePoints: 0.5);

        Assert.Equal(passes ? RetrainOutcome.Promoted : RetrainOutcome.Rejected, verdict);
        Assert.StartsWith(passes ? "passed the gate" : "failed the gate", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void WithTenClassesTop5IsNotComparedAndWithFiftyItIs()
    {
        // Same top-1; the candidate's top-5 error is 2 points worse.
        var ten = Summary(0.2, 0.2, classes: 10, candidateTop5: 0.03, currentTop5: 0.01);
        var fifty = ten with { Classes = 50, MajorityTop1Error = 0.98 };

        Assert.Equal(RetrainOutcome.Promoted, RetrainOrchestration.Gate(ten, 0.5).Verdict);
        Assert.Contains("top-5 not compared", RetrainOrchestration.Gate(ten, 0.5).Reason, StringComparison.Ordinal);
        Assert.Equal(RetrainOutcome.Rejected, RetrainOrchestration.Gate(fifty, 0.5).Verdict);
    }

    [Fact]
    public void AFirstModelAtChanceIsRefusedWithTheFigures()
    {
        // 140 validation images of 10 balanced classes: the majority class is right 10 % of the time.
        var chance = Summary(0.9, null, classes: 10, loss: Math.Log(10));

        var (verdict, reason) = RetrainOrchestration.Gate(chance, 0.5);

        Assert.Equal(RetrainOutcome.Refused, verdict);
        Assert.Contains("majority-class baseline", reason, StringComparison.Ordinal);
        Assert.Contains("90.00 %", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AFirstModelJustBelowTheBaselineWithinNoiseIsRefusedAndOneClearlyBelowIsPromoted()
    {
        // Margin on 140 images at a 0.9 baseline: 3 standard errors, 3 * sqrt(0.09 / 140) = 7.6 points.
        Assert.Equal(0.0761, RetrainOrchestration.FloorMargin(0.9, 140), 4);
        Assert.Equal(RetrainOutcome.Refused, RetrainOrchestration.Gate(Summary(0.85, null, classes: 10, loss: 1.5), 0.5).Verdict);
        Assert.Equal(RetrainOutcome.Promoted, RetrainOrchestration.Gate(Summary(0.80, null, classes: 10, loss: 1.5), 0.5).Verdict);
        // Large sets: the margin never falls below 5 points.
        Assert.Equal(0.05, RetrainOrchestration.FloorMargin(0.9, 100_000), 12);
    }

    [Fact]
    public void AnAccurateLookingModelWhoseLossIsNearChanceIsRefused()
    {
        var (verdict, reason) = RetrainOrchestration.Gate(Summary(0.3, null, classes: 10, loss: 2.2), 0.5);

        Assert.Equal(RetrainOutcome.Refused, verdict);
        Assert.Contains("loss is near chance", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ACandidateNoWorseThanACurrentModelAtChanceIsStillRefused()
    {
        Assert.Equal(RetrainOutcome.Refused, RetrainOrchestration.Gate(Summary(0.9, 0.9, classes: 10, loss: 2.3), 0.5).Verdict);
    }

    private static EvaluationSummary Summary(
        double candidate, double? current, int classes, double loss = 0.5, double candidateTop5 = 0, double currentTop5 = 0) => new(
        "test",
        140,
        new ModelScore("candidate", 140, candidate, candidateTop5, loss),
        current is null ? null : new ModelScore("current", 140, current.Value, currentTop5, 0.5),
        0,
        current is null ? 0 : 140,
        [],
        classes,
        1 - 1.0 / classes);
}
