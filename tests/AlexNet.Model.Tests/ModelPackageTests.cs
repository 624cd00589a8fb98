using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using TorchSharp;
using static TorchSharp.torch;

namespace AlexNet.Model.Tests;

public sealed class ModelPackageTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"alexnet-package-{Guid.NewGuid():N}");

    [Fact]
    public void SavedPackageLoadsIntoEitherLayoutWithTheSameWeights()
    {
        var package = TestModels.SmallPackage();
        package.SaveDirectory(directory);

        var loaded = ModelPackage.LoadDirectory(directory);
        using var grouped = loaded.CreateNetwork(AlexNetLayout.Grouped);
        using var towers = loaded.CreateNetwork(AlexNetLayout.TwoTower);
        grouped.eval();
        towers.eval();
        using var input = torch.randn(2, 3, 64, 64) * 40;
        using var a = grouped.call(input);
        using var b = towers.call(input);

        Assert.Equal(package.Manifest.WeightsSha256, loaded.Manifest.WeightsSha256);
        Assert.Equal(64, ModelPackage.Sha256(loaded.WeightsBytes.Span).Length);
        Assert.True((a - b).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void SameWeightsAlwaysSerializeToTheSameBytes()
    {
        var first = TestModels.SmallPackage(seed: 5);
        var second = TestModels.SmallPackage(seed: 5);
        var other = TestModels.SmallPackage(seed: 6);

        Assert.Equal(first.Manifest.WeightsSha256, second.Manifest.WeightsSha256);
        Assert.NotEqual(first.Manifest.WeightsSha256, other.Manifest.WeightsSha256);
    }

    [Fact]
    public void OneFlippedByteInTheWeightsIsRefused()
    {
        TestModels.SmallPackage().SaveDirectory(directory);
        string weights = Path.Combine(directory, ModelPackage.WeightsFileName);
        byte[] bytes = File.ReadAllBytes(weights);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(weights, bytes);

        var error = Assert.Throws<ModelIntegrityException>(() => ModelPackage.LoadDirectory(directory));

        Assert.Contains("SHA-256", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedWeightsFileIsRefusedByTheReader()
    {
        byte[] bytes = TestModels.SmallPackage().WeightsBytes.ToArray();

        var error = Assert.Throws<InvalidDataException>(() => WeightsFormat.Deserialize(bytes.AsSpan(0, bytes.Length - 7)));

        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ManifestThatIsNotJsonGivesAClearError()
    {
        var error = Assert.Throws<InvalidDataException>(() => ModelManifest.FromJson("{ not json"u8));

        Assert.Contains("manifest", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
    }
}
