using AlexNet.Model.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace AlexNet.Model.Tests;

public sealed class LayoutParityTests
{
    [Theory]
    [InlineData(224, 1000)]
    [InlineData(64, 10)]
    public void SameWeightsGiveTheSameLogitsInBothLayouts(int inputSize, int classes)
    {
        torch.manual_seed(7);
        using var grouped = AlexNetFactory.Create(new AlexNetOptions { InputSize = inputSize, Classes = classes });
        using var towers = AlexNetFactory.Create(new AlexNetOptions { InputSize = inputSize, Classes = classes, Layout = AlexNetLayout.TwoTower });
        var weights = grouped.ExportWeights();
        towers.ImportWeights(weights);
        grouped.eval();
        towers.eval();
        using var input = torch.randn(3, 3, inputSize, inputSize) * 50;

        using var fromGrouped = grouped.call(input);
        using var fromTowers = towers.call(input);

        double largest = fromGrouped.abs().max().item<float>();
        double difference = (fromGrouped - fromTowers).abs().max().item<float>();
        Assert.True(largest > 1e-3, $"logits are all near zero ({largest}); the comparison would prove nothing");
        Assert.True(difference < 1e-5, $"largest difference {difference}");
        foreach (var tensor in weights.Values)
            tensor.Dispose();
    }

    [Fact]
    public void WeightsSurviveARoundTripThroughTheOtherLayout()
    {
        using var towers = AlexNetFactory.Create(new AlexNetOptions { InputSize = 64, Classes = 10, Layout = AlexNetLayout.TwoTower });
        using var grouped = AlexNetFactory.Create(new AlexNetOptions { InputSize = 64, Classes = 10 });
        var original = towers.ExportWeights();

        grouped.ImportWeights(original);
        var back = grouped.ExportWeights();

        Assert.Equal(original.Keys.Order(), back.Keys.Order());
        foreach (var (name, tensor) in original)
            Assert.True(tensor.allclose(back[name], rtol: 0, atol: 0), name);
    }

    [Fact]
    public void ImportRefusesWeightsOfAnotherShapeNamingTheTensor()
    {
        using var small = AlexNetFactory.Create(new AlexNetOptions { InputSize = 64, Classes = 10 });
        using var other = AlexNetFactory.Create(new AlexNetOptions { InputSize = 64, Classes = 12 });
        var weights = other.ExportWeights();

        var error = Assert.Throws<InvalidDataException>(() => small.ImportWeights(weights));

        Assert.Contains("fc8.weight", error.Message, StringComparison.Ordinal);
    }
}
