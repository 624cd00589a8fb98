using System.Text.Json;
using AlexNet.Model.Inference;
using AlexNet.Model.Interchange;
using AlexNet.Model.Interchange.Onnx;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace AlexNet.Model.Tests.Interchange;

/// <summary>
/// The ONNX export run by ONNX Runtime (an engine of its own, not the project's code) on the same images the project's
/// classifier labels: the same top-5, and probabilities within <see cref="Tolerance"/>.
/// </summary>
public sealed class OnnxExportTests(ITestOutputHelper output)
{
    /// <summary>
    /// Measured here (ONNX Runtime 1.32.0 CPU against TorchSharp 0.107 / libtorch 2.10 CPU, 6 images, seeds as below):
    /// the largest difference in any probability was 7.2e-7 at input 64 (10 classes, no std) and 2.5e-7 at input 224
    /// (1,000 classes, with std): fp32 rounding from a different order of summation. The bound is 14 times the larger.
    /// </summary>
    private const float Tolerance = 1e-5f;

    [Theory]
    [InlineData(64, 72, 10, false)]
    [InlineData(224, 256, 1000, true)]
    public void OnnxRuntimeGivesTheClassifiersTop5AndProbabilities(int inputSize, int baseSize, int classes, bool withStd)
    {
        ModelPackage package = Package(inputSize, baseSize, classes, AlexNetLayout.Grouped, withStd);
        byte[] onnx = OnnxExport.Export(package).ToByteArray();
        const int count = 6;
        var random = new Random(inputSize);
        List<byte[]> images = [.. Enumerable.Range(0, count).Select(_ => SmoothImage(random, baseSize))];

        float[] expected;
        using (var scope = NewDisposeScope())
        using (var classifier = new Classifier(package))
        {
            Tensor packed = ImageTensors.Pack([.. images.Select(i => (ReadOnlyMemory<byte>)i)], baseSize);
            expected = classifier.Probabilities(packed, CropMode.Center).data<float>().ToArray();
        }
        float[] actual = RunOnnx(onnx, CentreCrops(images, baseSize, inputSize), count, inputSize);

        Assert.Equal(expected.Length, actual.Length);
        float largest = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        output.WriteLine($"input {inputSize}, {classes} classes: largest probability difference {largest:E3}, ONNX file {onnx.Length:N0} bytes");
        for (int image = 0; image < count; image++)
        {
            float[] want = expected[(image * classes)..((image + 1) * classes)];
            float[] got = actual[(image * classes)..((image + 1) * classes)];
            Assert.True(want.Max() > 2f / classes, $"image {image}: probabilities near uniform ({want.Max()}) would make the top-5 comparison meaningless");
            Assert.Equal(Top5(want), Top5(got));
            Assert.InRange(got.Sum(), 0.9999f, 1.0001f);
        }
        Assert.True(largest < Tolerance, $"largest probability difference {largest} exceeds {Tolerance}");
    }

    [Fact]
    public void TheGraphIsThePapersGroupedNetworkWithClassesAndPreprocessingInItsMetadata()
    {
        ModelPackage package = Package(64, 72, 10, AlexNetLayout.Grouped, withStd: true);
        byte[] bytes = OnnxExport.Export(package).ToByteArray();
        ModelProto model = ModelProto.Parser.ParseFrom(bytes);
        List<NodeProto> nodes = [.. model.Graph.Node];

        Assert.Equal(8, model.IrVersion);
        Assert.Equal(17, Assert.Single(model.OpsetImport).Version);
        Assert.DoesNotContain(nodes, n => n.OpType == "Dropout");
        Assert.Equal("Softmax", nodes[^1].OpType);
        Assert.Equal([1L, 2L, 1L, 2L, 2L], nodes.Where(n => n.OpType == "Conv").Select(n => Int(n, "group")));
        Assert.Equal([11L, 5L, 3L, 3L, 3L], nodes.Where(n => n.OpType == "Conv").Select(n => n.Attribute.Single(a => a.Name == "kernel_shape").Ints[0]));
        Assert.Equal(3, nodes.Count(n => n.OpType == "MaxPool" && n.Attribute.Single(a => a.Name == "kernel_shape").Ints.SequenceEqual([3L, 3L])
            && n.Attribute.Single(a => a.Name == "strides").Ints.SequenceEqual([2L, 2L])));
        Assert.Equal(3, nodes.Count(n => n.OpType == "Gemm" && Int(n, "transB") == 1));
        List<NodeProto> lrn = [.. nodes.Where(n => n.OpType == "LRN")];
        Assert.Equal(4, lrn.Count);
        Assert.All(lrn, n =>
        {
            Assert.Equal(5, Int(n, "size"));
            Assert.Equal(5e-4f, n.Attribute.Single(a => a.Name == "alpha").F);
            Assert.Equal(0.75f, n.Attribute.Single(a => a.Name == "beta").F);
            Assert.Equal(2f, n.Attribute.Single(a => a.Name == "bias").F);
        });

        using var session = new InferenceSession(bytes);
        Dictionary<string, string> metadata = session.ModelMetadata.CustomMetadataMap;
        Assert.Equal(package.Manifest.Classes, JsonSerializer.Deserialize<string[]>(metadata["classes"]));
        Assert.Equal("64", metadata["input_size"]);
        Assert.Equal("72", metadata["base_size"]);
        Assert.Equal("RGB", metadata["channel_order"]);
        Assert.Equal(package.Manifest.Mean, JsonSerializer.Deserialize<float[]>(metadata["mean"]));
        Assert.Equal(package.Manifest.Std, JsonSerializer.Deserialize<float[]>(metadata["std"]));
        Assert.Equal(package.Manifest.WeightsSha256, metadata["weights_sha256"]);
        Assert.Contains("centre", metadata["crop"], StringComparison.Ordinal);
        Assert.Equal([-1, 3, 64, 64], session.InputMetadata[OnnxExport.InputName].Dimensions);
        Assert.Equal([-1, 10], session.OutputMetadata[OnnxExport.OutputName].Dimensions);
    }

    [Fact]
    public void ATwoTowerPackageExportsTheSameGraph()
    {
        ModelPackage grouped = Package(64, 72, 10, AlexNetLayout.Grouped, withStd: true);
        ModelPackage towers;
        using (var scope = NewDisposeScope())
        using (AlexNetNetwork network = AlexNetFactory.Create(new AlexNetOptions { Classes = 10, InputSize = 64, Layout = AlexNetLayout.TwoTower, Seed = 99 }))
        {
            network.ImportWeights(WeightsFormat.Deserialize(grouped.WeightsBytes.Span));
            towers = ModelPackage.Create(grouped.Manifest, network);
        }

        ModelProto fromGrouped = OnnxExport.Export(grouped);
        ModelProto fromTowers = OnnxExport.Export(towers);

        Assert.Equal(AlexNetLayout.TwoTower, towers.Manifest.Layout);
        Assert.Equal(fromGrouped.Graph.ToByteArray(), fromTowers.Graph.ToByteArray());
        Assert.Equal("TwoTower", fromTowers.MetadataProps.Single(p => p.Key == "package_layout").Value);
    }

    [Fact]
    public void TheSafetensorsExportCarriesTheClassesAndTheGroupedNames()
    {
        ModelPackage package = Package(64, 72, 10, AlexNetLayout.Grouped, withStd: true);

        byte[] bytes = SafetensorsExport.Export(package);

        int headerLength = (int)BitConverter.ToInt64(bytes, 0);
        using JsonDocument header = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        JsonElement metadata = header.RootElement.GetProperty("__metadata__");
        Assert.Equal(package.Manifest.Classes, JsonSerializer.Deserialize<string[]>(metadata.GetProperty("classes").GetString()!));
        Assert.Equal("pt", metadata.GetProperty("format").GetString());
        Assert.Equal([256L, 48L, 5L, 5L], header.RootElement.GetProperty("conv2.weight").GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        Dictionary<string, Tensor> read = SafetensorsFormat.Deserialize(bytes);
        Dictionary<string, Tensor> original = WeightsFormat.Deserialize(package.WeightsBytes.Span);
        try
        {
            Assert.Equal(original.Keys.Order(), read.Keys.Order());
            foreach (var (name, tensor) in original)
                Assert.True(tensor.equal(read[name]).all().item<bool>(), name);
        }
        finally
        {
            foreach (Tensor tensor in read.Values.Concat(original.Values))
                tensor.Dispose();
        }
    }

    private static long Int(NodeProto node, string attribute) => node.Attribute.Single(a => a.Name == attribute).I;

    private static int[] Top5(float[] probabilities) =>
        [.. probabilities.Select((p, i) => (p, i)).OrderByDescending(x => x.p).Take(5).Select(x => x.i)];

    private static float[] RunOnnx(byte[] model, float[] input, int count, int inputSize)
    {
        using var session = new InferenceSession(model);
        using var value = OrtValue.CreateTensorValueFromMemory(input, [count, 3, inputSize, inputSize]);
        using var options = new RunOptions();
        using var results = session.Run(options, [OnnxExport.InputName], [value], [OnnxExport.OutputName]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>The centre crop of each RGB base image as float NCHW on the 0-255 scale, as the metadata describes the input.</summary>
    private static float[] CentreCrops(List<byte[]> images, int baseSize, int inputSize)
    {
        int offset = (baseSize - inputSize) / 2;
        var crops = new float[images.Count * 3 * inputSize * inputSize];
        for (int n = 0; n < images.Count; n++)
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < inputSize; y++)
                    for (int x = 0; x < inputSize; x++)
                        crops[((n * 3 + c) * inputSize + y) * inputSize + x] = images[n][((y + offset) * baseSize + x + offset) * 3 + c];
        return crops;
    }

    /// <summary>Random blobs of colour rather than noise, so conv1's 11x11 filters see structure.</summary>
    private static byte[] SmoothImage(Random random, int side)
    {
        var image = new byte[side * side * 3];
        double[] phase = [.. Enumerable.Range(0, 6).Select(_ => random.NextDouble() * Math.PI * 2)];
        double[] frequency = [.. Enumerable.Range(0, 6).Select(_ => 0.02 + random.NextDouble() * 0.3)];
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
                for (int c = 0; c < 3; c++)
                    image[(y * side + x) * 3 + c] = (byte)(127.5 + 127 * Math.Sin(frequency[c] * x + frequency[c + 3] * y + phase[c] + phase[c + 3] * (c + 1)));
        return image;
    }

    /// <summary>He-initialised weights on normalised inputs give logits of order one, so the probabilities have a clear order.</summary>
    private static ModelPackage Package(int inputSize, int baseSize, int classes, AlexNetLayout layout, bool withStd)
    {
        using AlexNetNetwork network = AlexNetFactory.Create(new AlexNetOptions
        {
            Classes = classes, InputSize = inputSize, Layout = layout, Init = WeightInit.VarianceScaling, Seed = inputSize + classes,
        });
        return ModelPackage.Create(new ModelManifest
        {
            Version = $"onnx-{inputSize}",
            Classes = [.. Enumerable.Range(0, classes).Select(i => $"class {i}")],
            InputSize = inputSize,
            BaseSize = baseSize,
            Mean = [123.5f, 116.25f, 103.75f],
            Std = withStd ? [58.4f, 57.1f, 57.4f] : null,
            WeightsSha256 = "pending",
            CreatedAt = DateTimeOffset.UnixEpoch,
        }, network);
    }
}
