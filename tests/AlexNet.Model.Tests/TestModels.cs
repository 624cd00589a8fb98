using AlexNet.Model.Network;
using AlexNet.Model.Packaging;

namespace AlexNet.Model.Tests;

/// <summary>Builds small model packages for tests.</summary>
internal static class TestModels
{
    public static ModelPackage SmallPackage(int seed = 11, int classes = 10, int inputSize = 64, int baseSize = 72)
    {
        using var network = AlexNetFactory.Create(new AlexNetOptions { Classes = classes, InputSize = inputSize, Seed = seed });
        var manifest = new ModelManifest
        {
            Version = $"test-{seed}",
            Classes = Enumerable.Range(0, classes).Select(i => $"class-{i}").ToArray(),
            InputSize = inputSize,
            BaseSize = baseSize,
            Mean = [120f, 115f, 100f],
            WeightsSha256 = "pending",
            CreatedAt = DateTimeOffset.UnixEpoch,
        };
        return ModelPackage.Create(manifest, network);
    }

    /// <summary>
    /// The same network as a package written before safetensors: <c>weights.bin</c> in the project's earlier format,
    /// the manifest naming it and sealed over it, as those packages were.
    /// </summary>
    public static ModelPackage LegacyPackage(ModelPackage package)
    {
        Dictionary<string, TorchSharp.torch.Tensor> weights = WeightsFormat.Deserialize(package.WeightsBytes.Span);
        try
        {
            byte[] legacy = LegacyWeightsFormat.Serialize(weights);
            return ModelPackage.FromWeights(package.Manifest with { WeightsFile = ModelPackage.LegacyWeightsFileName }, legacy);
        }
        finally
        {
            foreach (var tensor in weights.Values)
                tensor.Dispose();
        }
    }

    public static byte[] RandomImage(Random random, int side)
    {
        var bytes = new byte[side * side * 3];
        random.NextBytes(bytes);
        return bytes;
    }
}
