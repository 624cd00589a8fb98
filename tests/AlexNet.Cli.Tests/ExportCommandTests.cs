using AlexNet.Model.Interchange.Onnx;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using static TorchSharp.torch;

namespace AlexNet.Cli.Tests;

/// <summary><c>alexnet export</c>: a package out as ONNX or safetensors; bad arguments give one line and exit code 2.</summary>
public sealed class ExportCommandTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("alexnet-export-").FullName;

    [Fact]
    public async Task ExportsOnnxWithTheClassesInItsMetadataAndSaysWhatItWrote()
    {
        string model = SavePackage();
        string onnx = Path.Combine(root, "out", "model.onnx");

        CliRun run = await CliRun.Of("export", "--model", model, "--format", "onnx", "--out", onnx);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Error);
        Assert.Contains("as ONNX (opset 17", run.Output, StringComparison.Ordinal);
        Assert.Single(run.Output.Trim().Split('\n'));
        ModelProto exported = ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx));
        Assert.Equal("[\"a\",\"b\"]", exported.MetadataProps.Single(p => p.Key == "classes").Value);
        Assert.Equal("Softmax", exported.Graph.Node[^1].OpType);
    }

    [Fact]
    public async Task ExportsSafetensorsThatReadBackAsTheGroupedNetworksWeights()
    {
        string model = SavePackage();
        string file = Path.Combine(root, "weights.safetensors");

        CliRun run = await CliRun.Of("export", "--model", model, "--format", "safetensors", "--out", file);

        Assert.Equal(0, run.ExitCode);
        Dictionary<string, Tensor> weights = SafetensorsFormat.Deserialize(File.ReadAllBytes(file));
        try
        {
            Assert.Equal(16, weights.Count);
            Assert.Equal([256L, 48L, 5L, 5L], weights["conv2.weight"].shape);
        }
        finally
        {
            foreach (Tensor tensor in weights.Values)
                tensor.Dispose();
        }
    }

    [Theory]
    [InlineData("missing-model")]
    [InlineData("not-a-package")]
    [InlineData("unknown-format")]
    [InlineData("out-is-a-folder")]
    [InlineData("out-under-a-file")]
    [InlineData("no-format")]
    public async Task BadArgumentsGiveOneLineAndExitCode2(string fault)
    {
        string model = fault is "missing-model" or "not-a-package" ? Path.Combine(root, "nothing") : SavePackage();
        if (fault == "not-a-package")
            Directory.CreateDirectory(model);
        string format = fault == "unknown-format" ? "pickle" : "onnx";
        string output = fault switch
        {
            "out-is-a-folder" => Directory.CreateDirectory(Path.Combine(root, "folder")).FullName,
            "out-under-a-file" => Path.Combine(model, ModelPackage.ManifestFileName, "model.onnx"),
            _ => Path.Combine(root, "model.onnx"),
        };
        string[] args = fault == "no-format"
            ? ["export", "--model", model, "--out", output]
            : ["export", "--model", model, "--format", format, "--out", output];

        CliRun run = await CliRun.Of(args);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("alexnet: ", run.Error, StringComparison.Ordinal);
        Assert.Single(run.Error.Trim().Split('\n'));
        Assert.False(File.Exists(Path.Combine(root, "model.onnx")));
    }

    private string SavePackage()
    {
        string folder = Path.Combine(root, "model");
        using AlexNetNetwork network = AlexNetFactory.Create(new AlexNetOptions { Classes = 2, InputSize = 64, Seed = 1 });
        ModelPackage.Create(new ModelManifest
        {
            Version = "v-export",
            Classes = ["a", "b"],
            InputSize = 64,
            BaseSize = 70,
            Mean = [90f, 90f, 90f],
            WeightsSha256 = "pending",
            CreatedAt = DateTimeOffset.UnixEpoch,
        }, network).SaveDirectory(folder);
        return folder;
    }

    public void Dispose() => Directory.Delete(root, recursive: true);
}
