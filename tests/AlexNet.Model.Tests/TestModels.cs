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

    public static byte[] RandomImage(Random random, int side)
    {
        var bytes = new byte[side * side * 3];
        random.NextBytes(bytes);
        return bytes;
    }
}
