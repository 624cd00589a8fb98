using AlexNet.Model.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace AlexNet.Model.Tests;

public sealed class PaperFidelityTests
{
    /// <summary>b[i] = a[i] / (k + alpha * sum over j in [i - n/2, i + n/2] of a[j]^2)^beta, as the paper writes it.</summary>
    private static float[] PaperLrn(float[] activity, int channels, int pixels, int channelOffset, int groupChannels)
    {
        var result = new float[activity.Length];
        for (int c = 0; c < groupChannels; c++)
        {
            for (int p = 0; p < pixels; p++)
            {
                double sum = 0;
                for (int j = Math.Max(0, c - 2); j <= Math.Min(groupChannels - 1, c + 2); j++)
                {
                    double a = activity[(channelOffset + j) * pixels + p];
                    sum += a * a;
                }
                int index = (channelOffset + c) * pixels + p;
                result[index] = (float)(activity[index] / Math.Pow(2.0 + 1e-4 * sum, 0.75));
            }
        }
        _ = channels;
        return result;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void LrnEqualsThePapersFormulaWithinEachGroup(int groups)
    {
        const int channels = 8, side = 3, pixels = side * side;
        var values = Enumerable.Range(0, channels * pixels).Select(i => (float)(((i * 37) % 23) * 7.5 - 40)).ToArray();
        using var input = torch.tensor(values, [1, channels, side, side]);
        using var lrn = new GroupLocalResponseNorm(groups);

        using var output = lrn.call(input);

        var expected = new float[values.Length];
        int perGroup = channels / groups;
        for (int g = 0; g < groups; g++)
        {
            var part = PaperLrn(values, channels, pixels, g * perGroup, perGroup);
            for (int i = g * perGroup * pixels; i < (g + 1) * perGroup * pixels; i++)
                expected[i] = part[i];
        }
        var actual = output.data<float>().ToArray();
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"element {i}: {expected[i]} vs {actual[i]}");
        // The alpha trap: with PyTorch's convention taken literally (alpha 1e-4 divided by 5) these differ.
        Assert.NotEqual(values[0], actual[0]);
    }

    [Theory]
    [InlineData(AlexNetLayout.Grouped)]
    [InlineData(AlexNetLayout.TwoTower)]
    public void InitialWeightsAreGaussianWithStd001AndBiasesFollowThePaper(AlexNetLayout layout)
    {
        using var network = AlexNetFactory.Create(new AlexNetOptions { Layout = layout, InputSize = 64, Classes = 10, Seed = 1 });
        var weights = network.ExportWeights();

        foreach (string layer in AlexNetNetwork.LayerNames)
        {
            Tensor weight = weights[$"{layer}.weight"];
            double std = weight.std().item<float>();
            double mean = weight.mean().item<float>();
            Assert.InRange(std, 0.0095, 0.0105);
            Assert.InRange(mean, -0.001, 0.001);

            float expectedBias = AlexNetNetwork.PositiveBiasLayers.Contains(layer) ? 1f : 0f;
            Assert.All(weights[$"{layer}.bias"].data<float>().ToArray(), bias => Assert.Equal(expectedBias, bias));
        }
        Assert.Equal(["conv2", "conv4", "conv5", "fc6", "fc7"], AlexNetNetwork.PositiveBiasLayers.Order());
    }

    [Fact]
    public void DropoutIsActiveInTrainingAndOffInEvaluation()
    {
        torch.manual_seed(3);
        using var network = AlexNetFactory.Create(new AlexNetOptions { InputSize = 64, Classes = 10 });
        using var input = torch.randn(4, 3, 64, 64);

        network.train();
        using var first = network.call(input);
        using var second = network.call(input);
        network.eval();
        using var third = network.call(input);
        using var fourth = network.call(input);

        Assert.False(first.allclose(second), "training passes should differ through dropout");
        Assert.True(third.allclose(fourth, rtol: 0, atol: 0), "evaluation passes must be deterministic");
    }
}
