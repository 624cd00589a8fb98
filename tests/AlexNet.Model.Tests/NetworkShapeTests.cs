using AlexNet.Model.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace AlexNet.Model.Tests;

public sealed class NetworkShapeTests
{
    [Theory]
    [InlineData(AlexNetLayout.Grouped)]
    [InlineData(AlexNetLayout.TwoTower)]
    public void PaperNetworkHas60965224Parameters(AlexNetLayout layout)
    {
        using var network = AlexNetFactory.Create(new AlexNetOptions { Layout = layout });

        long counted = network.parameters().Sum(parameter => parameter.numel());

        Assert.Equal(60_965_224, counted);
        Assert.Equal(60_965_224, AlexNetArchitecture.ParameterCount(new AlexNetOptions { Layout = layout }));
    }

    [Theory]
    [InlineData(224, 1000, 6)]
    [InlineData(227, 1000, 6)]
    [InlineData(64, 10, 1)]
    [InlineData(96, 10, 2)]
    public void LogitsHaveOneRowPerImageAndOneColumnPerClass(int inputSize, int classes, int pool5)
    {
        var options = new AlexNetOptions { InputSize = inputSize, Classes = classes };
        using var network = AlexNetFactory.Create(options);
        network.eval();
        using var input = torch.randn(2, 3, inputSize, inputSize);

        using var logits = network.call(input);

        Assert.Equal(new long[] { 2, classes }, logits.shape);
        Assert.Equal(pool5, AlexNetArchitecture.Pool5Size(inputSize));
        Assert.Equal(256L * pool5 * pool5, AlexNetArchitecture.Fc6Inputs(inputSize));
    }

    [Fact]
    public void ArchitectureTableFollowsThePaperAt224()
    {
        var layers = AlexNetArchitecture.Layers(new AlexNetOptions());

        Assert.Equal([96, 27, 27], layers.Single(l => l.Name == "conv1").OutputShape);
        Assert.Equal([256, 13, 13], layers.Single(l => l.Name == "conv2").OutputShape);
        Assert.Equal([384, 13, 13], layers.Single(l => l.Name == "conv4").OutputShape);
        Assert.Equal([256, 6, 6], layers.Single(l => l.Name == "conv5").OutputShape);
        Assert.Equal(55, AlexNetArchitecture.Conv1Size(224));
    }

    [Fact]
    public void SixtyFourPixelInputGivesTheSmallFeatureMapChain()
    {
        // conv1 15, pool 7, conv2 7, pool 3, conv3-5 3, pool 1: FC6 takes 256 inputs.
        Assert.Equal(15, AlexNetArchitecture.Conv1Size(64));
        Assert.Equal(7, AlexNetArchitecture.PoolSize(15));
        Assert.Equal(3, AlexNetArchitecture.PoolSize(7));
        Assert.Equal(256, AlexNetArchitecture.Fc6Inputs(64));
    }

    [Fact]
    public void InputSmallerThanTheMinimumIsRefusedWithTheReason()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => AlexNetFactory.Create(new AlexNetOptions { InputSize = 32 }));

        Assert.Contains("at least 63", error.Message, StringComparison.Ordinal);
    }
}
