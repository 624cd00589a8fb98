using AlexNet.Model.Evaluation;
using TorchSharp;

namespace AlexNet.Model.Tests.Evaluation;

public sealed class EvaluationAccumulatorTests
{
    [Fact]
    public void CountsTopOneTopFiveConfusionAndLossByHand()
    {
        string[] classes = ["a", "b", "c", "d", "e", "f"];
        var accumulator = new EvaluationAccumulator(classes);
        // Row i: probabilities; labels chosen so that image 0 is top-1 right, image 1 top-5 only, image 2 neither.
        float[,] p =
        {
            { 0.50f, 0.10f, 0.10f, 0.10f, 0.10f, 0.10f },
            { 0.30f, 0.25f, 0.20f, 0.15f, 0.06f, 0.04f },
            { 0.30f, 0.25f, 0.20f, 0.15f, 0.06f, 0.04f },
        };
        using var probabilities = torch.tensor(p);

        accumulator.Add(probabilities, [0, 3, 5]);
        EvaluationReport report = accumulator.Report("Center");

        Assert.Equal(3, report.Images);
        Assert.Equal(2 / 3.0, report.Top1Error, 6);
        Assert.Equal(1 / 3.0, report.Top5Error, 6);
        Assert.Equal(-(Math.Log(0.5) + Math.Log(0.15) + Math.Log(0.04)) / 3, report.Loss, 5);
        Assert.Equal(1, report.ConfusionMatrix[0][0]);
        Assert.Equal(1, report.ConfusionMatrix[3][0]);
        Assert.Equal(1, report.ConfusionMatrix[5][0]);
        Assert.Equal(3, report.ConfusionMatrix.Sum(row => row.Sum()));
        Assert.Equal(1.0, report.PerClass[0].Accuracy);
        Assert.Equal(0.0, report.PerClass[3].Accuracy);
        Assert.Equal(0, report.PerClass[1].Images);
    }
}
