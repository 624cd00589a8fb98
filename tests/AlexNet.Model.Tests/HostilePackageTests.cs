using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using AlexNet.Model.Packaging;

namespace AlexNet.Model.Tests;

/// <summary>
/// Model packages written by someone else: the manifest steers which file is read, how large a network is built and
/// what the classes are called, so every field is bounded and the manifest itself is hash-checked.
/// </summary>
public sealed class HostilePackageTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"alexnet-hostile-{Guid.NewGuid():N}");

    [Theory]
    [InlineData("../v1/weights.bin")]
    [InlineData("/etc/passwd")]
    [InlineData("/dev/zero")]
    [InlineData("sub/weights.bin")]
    [InlineData("..")]
    [InlineData("C:\\weights.bin")]
    [InlineData("https://other.blob.core.windows.net/c/weights.bin")]
    public void WeightsFileMustBeAPlainNameInThePackageFolder(string weightsFile)
    {
        byte[] json = Edit(TestModels.SmallPackage().ManifestBytes, manifest => manifest["weightsFile"] = weightsFile);

        var error = Assert.Throws<InvalidDataException>(() => ModelManifest.FromJson(json));

        Assert.Contains("weightsFile", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ManifestPointingAtAnotherVersionsWeightsIsRefused()
    {
        ModelPackage v1 = TestModels.SmallPackage();
        v1.SaveDirectory(Path.Combine(directory, "v1"));
        Directory.CreateDirectory(Path.Combine(directory, "v2"));
        File.WriteAllBytes(Path.Combine(directory, "v2", ModelPackage.ManifestFileName),
            Edit(v1.ManifestBytes, manifest => manifest["weightsFile"] = "../v1/weights.bin"));

        Assert.Throws<InvalidDataException>(() => ModelPackage.LoadDirectory(Path.Combine(directory, "v2")));
    }

    [Theory]
    [InlineData("inputSize", "1000")]
    [InlineData("inputSize", "62")]
    [InlineData("baseSize", "100000")]
    [InlineData("classes", "[\"a\", \"a\"]")]
    [InlineData("classes", "[\"a\", \"b\\nc\"]")]
    [InlineData("classes", "[\"a\", \" b\"]")]
    [InlineData("classes", "[\"a\", \"\"]")]
    [InlineData("mean", "[120, 110]")]
    [InlineData("mean", "[120, 110, 1e30]")]
    [InlineData("mean", "[120, 110, -5]")]
    [InlineData("std", "[60, 60, 0]")]
    [InlineData("pca", "{\"eigenvalues\": [1, 2], \"eigenvectors\": [[1, 0, 0]]}")]
    [InlineData("version", "\"../v1\"")]
    [InlineData("parentVersion", "\"a/b\"")]
    [InlineData("weightsSha256", "\"pending\"")]
    [InlineData("weightsBytes", "-1")]
    public void EveryManifestFieldIsBounded(string field, string value)
    {
        byte[] json = Edit(TestModels.SmallPackage().ManifestBytes, manifest => manifest[field] = JsonNode.Parse(value));

        Assert.Throws<InvalidDataException>(() => ModelManifest.FromJson(json));
    }

    [Fact]
    public void ClassCountAndNameLengthAreBounded()
    {
        byte[] manyClasses = Edit(TestModels.SmallPackage().ManifestBytes,
            manifest => manifest["classes"] = new JsonArray([.. Enumerable.Range(0, 10_001).Select(i => JsonValue.Create($"c{i}"))]));
        byte[] longName = Edit(TestModels.SmallPackage().ManifestBytes,
            manifest => manifest["classes"] = new JsonArray("a", new string('b', 129)));

        Assert.Throws<InvalidDataException>(() => ModelManifest.FromJson(manyClasses));
        Assert.Throws<InvalidDataException>(() => ModelManifest.FromJson(longName));
    }

    [Fact]
    public void ALargerInputSizeThanTheWeightsHoldIsRefusedBeforeANetworkIsBuilt()
    {
        // Sealed and hash-consistent, so only the size check stands between it and a network of 448x448 input
        // (about 1 GB of weights) built from a 10 MB file.
        ModelPackage small = TestModels.SmallPackage();
        var bigger = ModelPackage.FromWeights(small.Manifest with { InputSize = 448, BaseSize = 480 }, small.WeightsBytes.ToArray());
        bigger.SaveDirectory(directory);

        var error = Assert.Throws<InvalidDataException>(() => ModelPackage.LoadDirectory(directory));

        Assert.Contains("needs", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SwappedClassNamesAreDetected()
    {
        TestModels.SmallPackage().SaveDirectory(directory);
        string path = Path.Combine(directory, ModelPackage.ManifestFileName);
        string json = File.ReadAllText(path)
            .Replace("\"class-0\"", "\"swap\"", StringComparison.Ordinal)
            .Replace("\"class-1\"", "\"class-0\"", StringComparison.Ordinal)
            .Replace("\"swap\"", "\"class-1\"", StringComparison.Ordinal);
        File.WriteAllText(path, json);

        var error = Assert.Throws<ModelIntegrityException>(() => ModelPackage.LoadDirectory(directory));

        Assert.Contains("manifest SHA-256", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RenamedClassIsDetected()
    {
        TestModels.SmallPackage().SaveDirectory(directory);
        string path = Path.Combine(directory, ModelPackage.ManifestFileName);
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"class-3\"", "\"cat\"", StringComparison.Ordinal));

        Assert.Throws<ModelIntegrityException>(() => ModelPackage.LoadDirectory(directory));
    }

    [Fact]
    public void PackageWrittenBeforeTheManifestHashStillLoads()
    {
        ModelPackage package = TestModels.SmallPackage();
        package.SaveDirectory(directory);
        string path = Path.Combine(directory, ModelPackage.ManifestFileName);
        File.WriteAllBytes(path, Edit(package.ManifestBytes, manifest => manifest.Remove("manifestSha256")));

        ModelPackage loaded = ModelPackage.LoadDirectory(directory);

        Assert.Equal(package.Manifest.Classes, loaded.Manifest.Classes);
        Assert.Equal(package.Manifest.WeightsSha256, loaded.Manifest.WeightsSha256);
    }

    [Fact]
    public void AWeightsFileLinkedToADeviceIsNotReadWhole()
    {
        ModelPackage package = TestModels.SmallPackage();
        package.SaveDirectory(directory);
        string weights = Path.Combine(directory, ModelPackage.WeightsFileName);
        File.Delete(weights);
        File.CreateSymbolicLink(weights, "/dev/zero");

        var error = Assert.Throws<InvalidDataException>(() => ModelPackage.LoadDirectory(directory));

        Assert.Contains("longer than", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEarlierFormatWeightsFileDeclaringAHugeShapeIsRefusedBeforeAllocating()
    {
        byte[] bytes = TestModels.LegacyPackage(TestModels.SmallPackage()).WeightsBytes.ToArray();
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(HugeShapeOffset(bytes)), int.MaxValue);

        var error = Assert.Throws<InvalidDataException>(() => WeightsFormat.Deserialize(bytes));

        Assert.Contains("conv1.bias", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Offset of the first dimension of the first tensor (conv1.bias, rank 1) in a weights file of the earlier format.</summary>
    internal static int HugeShapeOffset(byte[] weights)
    {
        const int header = 8 + 4;
        int nameLength = weights[header];
        Assert.Equal("conv1.bias", Encoding.UTF8.GetString(weights, header + 1, nameLength));
        return header + 1 + nameLength + 4;
    }

    private static byte[] Edit(byte[] manifestJson, Action<JsonObject> edit)
    {
        JsonObject manifest = JsonNode.Parse(manifestJson)!.AsObject();
        edit(manifest);
        return Encoding.UTF8.GetBytes(manifest.ToJsonString());
    }

    public void Dispose()
    {
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
    }
}
