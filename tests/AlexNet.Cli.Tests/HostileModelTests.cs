using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;

namespace AlexNet.Cli.Tests;

/// <summary>A model package someone else wrote, given to <c>alexnet label --model</c>: one line and exit code 2.</summary>
public sealed class HostileModelTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("alexnet-hostile-model-").FullName;

    [Fact]
    public async Task AnEarlierFormatWeightsFileDeclaringAHugeShapeEndsTheRunInOneLineWithExitCode2()
    {
        ModelPackage package = LegacyPackage(Package());
        byte[] weights = package.WeightsBytes.ToArray();
        // conv1.bias is the first tensor by name: magic (8), count (4), name length (1), name, rank (4), then its shape.
        int shape = 8 + 4 + 1 + weights[12] + 4;
        Assert.Equal("conv1.bias", Encoding.UTF8.GetString(weights, 13, weights[12]));
        BinaryPrimitives.WriteInt64LittleEndian(weights.AsSpan(shape), int.MaxValue);
        ModelPackage.FromWeights(package.Manifest, weights).SaveDirectory(Path.Combine(root, "model"));

        CliRun run = await LabelAsync();

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("alexnet: ", run.Error, StringComparison.Ordinal);
        Assert.Contains("conv1.bias", run.Error, StringComparison.Ordinal);
        Assert.Single(run.Error.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("\"conv1.bias\":{\"dtype\":\"F32\",\"shape\":[96]", "\"conv1.bias\":{\"dtype\":\"F32\",\"shape\":[69]", "'conv1.bias' has shape [69]")]
    [InlineData("\"data_offsets\":[384,139776]", "\"data_offsets\":[380,139772]", "overlaps the tensor before it")]
    [InlineData("\"dtype\":\"F32\"", "\"dtype\":\"F64\"", "only F32 is read")]
    public async Task AHostileSafetensorsFileEndsTheRunInOneLineWithExitCode2(string from, string to, string expected)
    {
        ModelPackage package = Package();
        byte[] weights = package.WeightsBytes.ToArray();
        // The same length, so the package's size check passes and the safetensors reader must refuse it.
        int headerLength = (int)BinaryPrimitives.ReadInt64LittleEndian(weights);
        int at = Encoding.UTF8.GetString(weights, 8, headerLength).IndexOf(from, StringComparison.Ordinal);
        Assert.True(at >= 0, from);
        Encoding.UTF8.GetBytes(to).CopyTo(weights, 8 + at);
        ModelPackage.FromWeights(package.Manifest, weights).SaveDirectory(Path.Combine(root, "model"));

        CliRun run = await LabelAsync();

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("alexnet: ", run.Error, StringComparison.Ordinal);
        Assert.Contains(expected, run.Error, StringComparison.Ordinal);
        Assert.Single(run.Error.Trim().Split('\n'));
    }

    [Fact]
    public async Task ASafetensorsHeaderLengthLargerThanTheFileEndsTheRunInOneLineWithExitCode2()
    {
        ModelPackage package = Package();
        byte[] weights = package.WeightsBytes.ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(weights, (ulong)weights.Length);
        ModelPackage.FromWeights(package.Manifest, weights).SaveDirectory(Path.Combine(root, "model"));

        CliRun run = await LabelAsync();

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("safetensors header declares", run.Error, StringComparison.Ordinal);
        Assert.Single(run.Error.Trim().Split('\n'));
    }

    [Fact]
    public async Task AManifestNamingAnotherVersionsWeightsEndsTheRunInOneLineWithExitCode2()
    {
        ModelPackage package = Package();
        package.SaveDirectory(Path.Combine(root, "v1"));
        Directory.CreateDirectory(Path.Combine(root, "model"));
        JsonObject manifest = JsonNode.Parse(package.ManifestBytes)!.AsObject();
        manifest["weightsFile"] = "../v1/weights.safetensors";
        await File.WriteAllTextAsync(Path.Combine(root, "model", ModelPackage.ManifestFileName), manifest.ToJsonString());

        CliRun run = await LabelAsync();

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("weightsFile", run.Error, StringComparison.Ordinal);
        Assert.Single(run.Error.Trim().Split('\n'));
    }

    private static ModelPackage Package()
    {
        using var network = AlexNetFactory.Create(new AlexNetOptions { Classes = 2, InputSize = 64, Seed = 1 });
        return ModelPackage.Create(new ModelManifest
        {
            Version = "v-hostile",
            Classes = ["a", "b"],
            InputSize = 64,
            BaseSize = 70,
            Mean = [90f, 90f, 90f],
            WeightsSha256 = "pending",
            CreatedAt = DateTimeOffset.UnixEpoch,
        }, network);
    }

    /// <summary>The same weights as a package written before safetensors (<c>weights.bin</c>, the earlier format).</summary>
    private static ModelPackage LegacyPackage(ModelPackage package)
    {
        Dictionary<string, TorchSharp.torch.Tensor> weights = WeightsFormat.Deserialize(package.WeightsBytes.Span);
        try
        {
            return ModelPackage.FromWeights(package.Manifest with { WeightsFile = ModelPackage.LegacyWeightsFileName }, LegacyWeightsFormat.Serialize(weights));
        }
        finally
        {
            foreach (var tensor in weights.Values)
                tensor.Dispose();
        }
    }

    private Task<CliRun> LabelAsync()
    {
        string input = Directory.CreateDirectory(Path.Combine(root, "input")).FullName;
        return CliRun.Of("label", "--model", Path.Combine(root, "model"), "--input", input, "--output", Path.Combine(root, "out"));
    }

    public void Dispose() => Directory.Delete(root, recursive: true);
}
