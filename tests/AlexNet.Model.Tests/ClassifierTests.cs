using AlexNet.Model.Inference;
using AlexNet.Model.Packaging;
using TorchSharp;
using static TorchSharp.torch;

namespace AlexNet.Model.Tests;

public sealed class ClassifierTests
{
    private static Tensor RandomBatch(int count, int side, int seed)
    {
        var random = new Random(seed);
        var images = Enumerable.Range(0, count).Select(_ => (ReadOnlyMemory<byte>)TestModels.RandomImage(random, side)).ToArray();
        return ImageTensors.Pack(images, side);
    }

    [Fact]
    public void TopFiveIsSortedAndMatchesASoftmaxComputedByHand()
    {
        var package = TestModels.SmallPackage();
        using var classifier = new Classifier(package);
        using var batch = RandomBatch(3, 72, seed: 1);

        var results = classifier.Classify(batch, CropMode.Center);

        // Logits by hand: same crop and mean, network straight from the package.
        using var network = package.CreateNetwork();
        network.eval();
        using var input = ImageTensors.ToNetworkInput(batch, package.Manifest.Mean);
        using var crop = ImageTensors.CenterCrop(input, 64);
        using var logits = network.call(crop);
        float[] raw = logits.data<float>().ToArray();
        for (int i = 0; i < 3; i++)
        {
            double[] row = raw.Skip(i * 10).Take(10).Select(v => (double)v).ToArray();
            double max = row.Max();
            double sum = row.Sum(v => Math.Exp(v - max));
            double[] softmax = row.Select(v => Math.Exp(v - max) / sum).ToArray();
            int[] expected = softmax.Select((p, c) => (p, c)).OrderByDescending(t => t.p).Take(5).Select(t => t.c).ToArray();

            Assert.Equal(5, results[i].Classes.Count);
            Assert.Equal(expected, results[i].Classes);
            for (int k = 0; k < 5; k++)
                Assert.Equal(softmax[expected[k]], results[i].Probabilities[k], 5);
            Assert.True(results[i].Probabilities.Zip(results[i].Probabilities.Skip(1)).All(pair => pair.First >= pair.Second));
        }
    }

    [Fact]
    public void TenCropAveragesTheSoftmaxOfTheTenCrops()
    {
        var package = TestModels.SmallPackage(seed: 4);
        using var classifier = new Classifier(package);
        using var batch = RandomBatch(2, 72, seed: 2);

        using var averaged = classifier.Probabilities(batch, CropMode.TenCrop);

        using var network = package.CreateNetwork();
        network.eval();
        using var input = ImageTensors.ToNetworkInput(batch, package.Manifest.Mean);
        int[] offsets = [0, 8];
        var byHand = torch.zeros(2, 10);
        foreach (bool flip in new[] { false, true })
        {
            foreach (var (top, left) in new[] { (0, 0), (0, 8), (8, 0), (8, 8), (4, 4) })
            {
                using var crop = input[.., .., TensorIndex.Slice(top, top + 64), TensorIndex.Slice(left, left + 64)];
                using var view = flip ? crop.flip(3) : crop.alias();
                using var logits = network.call(view);
                using var softmax = nn.functional.softmax(logits, 1);
                byHand.add_(softmax / 10);
            }
        }
        _ = offsets;

        Assert.True((averaged - byHand).abs().max().item<float>() < 1e-6);
        Assert.True((averaged.sum(1) - 1).abs().max().item<float>() < 1e-5);
        byHand.Dispose();
    }
}

/// <summary>Counts live tensors process-wide, so it runs with no other test alongside.</summary>
[CollectionDefinition(nameof(TensorAccounting), DisableParallelization = true)]
public sealed class TensorAccounting;

[Collection(nameof(TensorAccounting))]
public sealed class ClassifierMemoryTests
{
    private static Tensor RandomBatch(int count, int side, int seed)
    {
        var random = new Random(seed);
        var images = Enumerable.Range(0, count).Select(_ => (ReadOnlyMemory<byte>)TestModels.RandomImage(random, side)).ToArray();
        return ImageTensors.Pack(images, side);
    }

    [Fact]
    public void ClassifyingManyBatchesLeavesNoTensorBehind()
    {
        using var classifier = new Classifier(TestModels.SmallPackage());
        using var batch = RandomBatch(8, 72, seed: 3);
        classifier.Classify(batch, CropMode.TenCrop);
        long before = Tensor.TotalCount;

        for (int i = 0; i < 20; i++)
            classifier.Classify(batch, CropMode.TenCrop);

        Assert.Equal(before, Tensor.TotalCount);
    }
}
