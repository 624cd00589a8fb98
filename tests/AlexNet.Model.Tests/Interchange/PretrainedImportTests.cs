using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using AlexNet.Imaging;
using AlexNet.Model.Inference;
using AlexNet.Model.Interchange;
using AlexNet.Model.Interchange.Caffe;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using AlexNet.Model.Training;
using Google.Protobuf;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace AlexNet.Model.Tests.Interchange;

/// <summary>
/// <c>import-weights</c> on files that an independent writer produced (tests/fixtures/pretrained/make_fixtures.py: Caffe's
/// wire format written by hand from the published field numbers, ONNX through python3-onnx), full-size networks with
/// sparse random weights, compared with what an independent engine (numpy, Caffe's definitions) computed for the same
/// images: the same top-5 and probabilities within <see cref="Tolerance"/>.
/// </summary>
public sealed class PretrainedImportTests(ITestOutputHelper output)
{
    /// <summary>
    /// Measured here (TorchSharp 0.107 / libtorch 2.10 CPU, fp32, against numpy's float64): the largest difference in any
    /// of the 1,000 probabilities of the 3 images was 2.1e-7 for both Caffe files and 4.2e-7 for the ONNX file; the bound
    /// is 24 times the larger.
    /// </summary>
    private const float Tolerance = 1e-5f;

    private static readonly Dictionary<string, ModelPackage> Imported = [];

    [Theory]
    [InlineData("bvlc_alexnet_layer.caffemodel.gz")]
    [InlineData("bvlc_alexnet_v1.caffemodel.gz")]
    [InlineData("bvlcalexnet.onnx.gz")]
    public void ImportedNetworkLabelsAsTheIndependentEngineDoes(string file)
    {
        JsonElement model = Reference().GetProperty("models").EnumerateArray().Single(m => m.GetProperty("file").GetString() == file);
        int inputSize = model.GetProperty("input_size").GetInt32();
        ModelPackage package = Import(file);

        ModelManifest manifest = package.Manifest;
        Assert.Equal(inputSize, manifest.InputSize);
        Assert.Equal(PretrainedImport.BaseSize, manifest.BaseSize);
        Assert.Equal(0, manifest.Conv1Padding);
        Assert.True(manifest.CeilPooling);
        Assert.Equal(LrnSettings.Caffe, manifest.Lrn);
        Assert.Equal(ChannelOrder.Bgr, manifest.ChannelOrder);
        Assert.Equal(PretrainedImport.CaffeMeanRgb, manifest.Mean);
        Assert.Equal(ImageNetClasses.Count, manifest.Classes.Count);
        Assert.Equal("tench, Tinca tinca", manifest.Classes[0]);

        // Through the folder, so the manifest's new fields are validated and sealed as any package's are.
        string folder = Directory.CreateTempSubdirectory("alexnet-import-").FullName;
        try
        {
            package.SaveDirectory(folder);
            package = ModelPackage.LoadDirectory(folder);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        List<byte[]> images = Images();
        float[] actual;
        using (var scope = NewDisposeScope())
        using (var classifier = new Classifier(package))
        {
            Tensor packed = ImageTensors.Pack([.. images.Select(i => (ReadOnlyMemory<byte>)i)], PretrainedImport.BaseSize);
            actual = classifier.Probabilities(packed, CropMode.Center).data<float>().ToArray();
        }
        float largest = 0;
        JsonElement[] expected = [.. model.GetProperty("probabilities").EnumerateArray()];
        for (int image = 0; image < images.Count; image++)
        {
            float[] want = [.. expected[image].EnumerateArray().Select(p => p.GetSingle())];
            float[] got = actual[(image * ImageNetClasses.Count)..((image + 1) * ImageNetClasses.Count)];
            int[] wantTop5 = [.. model.GetProperty("top5")[image].EnumerateArray().Select(c => c.GetInt32())];
            Assert.True(want.Max() > 0.05f, $"image {image}: the reference is near uniform ({want.Max()}); the comparison would mean little");
            Assert.Equal(wantTop5, Top5(got));
            largest = Math.Max(largest, want.Zip(got, (w, g) => Math.Abs(w - g)).Max());
        }
        output.WriteLine($"{file}: largest probability difference from the reference {largest:E3}; top-1 probabilities {string.Join(", ", expected.Select(e => e.EnumerateArray().Max(p => p.GetSingle()).ToString("F4", System.Globalization.CultureInfo.InvariantCulture)))}");
        Assert.True(largest < Tolerance, $"largest probability difference {largest} exceeds {Tolerance}");
    }

    [Fact]
    public void V1LayersAndLayerFieldGiveTheSameWeights()
    {
        Assert.Equal(Import("bvlc_alexnet_layer.caffemodel.gz").Manifest.WeightsSha256, Import("bvlc_alexnet_v1.caffemodel.gz").Manifest.WeightsSha256);
    }

    [Fact]
    public void WithoutTheManifestSettingsTheNetworkComputesSomethingElse()
    {
        // The settings matter: the same weights in the project's default network (RGB, LRN k 2 within towers, floor
        // pooling, conv1 padded by 2 at input 227 gives a 56x56 map and the same fc6 fan-in) give other probabilities.
        ModelPackage package = Import("bvlc_alexnet_layer.caffemodel.gz");
        byte[] image = Images()[0];
        using var scope = NewDisposeScope();
        Tensor packed = ImageTensors.Pack([image], PretrainedImport.BaseSize);
        using var caffe = package.CreateNetwork();
        using var plain = AlexNetFactory.Create(new AlexNetOptions { Classes = 1000, InputSize = 227 });
        plain.ImportWeights(caffe.ExportWeights());
        caffe.eval();
        plain.eval();
        Tensor a = Classifier.Probabilities(caffe, package.Manifest.Mean, null, 227, packed, CropMode.Center);
        Tensor b = Classifier.Probabilities(plain, package.Manifest.Mean, null, 227, packed, CropMode.Center);
        Assert.True((a - b).abs().max().item<float>() > 1e-2f);
    }

    [Fact]
    public void FineTuningKeepsTheImportedSettingsAndReplacesTheHead()
    {
        ModelPackage parent = Import("bvlcalexnet.onnx.gz");
        var options = new TrainingOptions { InputSize = parent.Manifest.InputSize, FineTuneFrom = "unused" };
        AlexNetOptions network = FineTuning.NetworkOptions(parent, options, 3);
        Assert.Equal(parent.Manifest.NetworkOptions() with { Classes = 3, Seed = network.Seed, Init = network.Init, PositiveBias = network.PositiveBias }, network);

        using var scope = NewDisposeScope();
        using var child = AlexNetFactory.Create(network);
        FineTuneLineage lineage = FineTuning.CopyWeights(parent, child, ["cats", "dogs", "fish"]);
        Assert.True(lineage.HeadReinitialized);
        Dictionary<string, Tensor> weights = child.ExportWeights();
        using var parentNetwork = parent.CreateNetwork();
        Dictionary<string, Tensor> inherited = parentNetwork.ExportWeights();
        Assert.True(weights["conv1.weight"].allclose(inherited["conv1.weight"], rtol: 0, atol: 0));
        Assert.True(weights["fc7.weight"].allclose(inherited["fc7.weight"], rtol: 0, atol: 0));
        Assert.Equal([3L, 4096L], weights["fc8.weight"].shape);

        ModelPackage packaged = ModelPackage.Create(new ModelManifest
        {
            Version = "child", Classes = ["cats", "dogs", "fish"], InputSize = network.InputSize, BaseSize = 256, Mean = [.. parent.Manifest.Mean], WeightsSha256 = "pending",
        }, child);
        Assert.Equal(parent.Manifest.Lrn, packaged.Manifest.Lrn);
        Assert.Equal(ChannelOrder.Bgr, packaged.Manifest.ChannelOrder);
        Assert.Equal(0, packaged.Manifest.Conv1Padding);
        Assert.True(packaged.Manifest.CeilPooling);
    }

    [Theory]
    [InlineData("bvlc_alexnet_layer.caffemodel.gz", ".caffemodel", "is not a Caffe model")]
    [InlineData("bvlcalexnet.onnx.gz", ".onnx", "is not an ONNX model")]
    public void TruncatedFileIsRefusedInOneLine(string file, string extension, string expected)
    {
        byte[] bytes = Decompress(file);
        string path = Path.Combine(Path.GetTempPath(), $"alexnet-truncated-{Guid.NewGuid():N}{extension}");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        try
        {
            var error = Assert.Throws<InvalidDataException>(() => PretrainedImport.Import(path));
            output.WriteLine(error.Message);
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AnotherNetworkIsRefusedNamingTheLayer()
    {
        NetParameter net = NetParameter.Parser.ParseFrom(Decompress("bvlc_alexnet_layer.caffemodel.gz"));
        net.Layer.Single(l => l.Name == "conv2").ConvolutionParam.Group = 1;
        var error = Assert.Throws<InvalidDataException>(() => PretrainedImport.Import(net.ToByteArray(), PretrainedFormat.Caffe, "x", "ungrouped.caffemodel"));
        output.WriteLine(error.Message);
        Assert.Contains("conv2 (layer 'conv2') has group 1, not 2", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"conv1Padding\":9", "conv1Padding")]
    [InlineData("\"lrn\":{\"size\":4,\"alpha\":0.0001,\"beta\":0.75,\"k\":1,\"acrossTowers\":true}", "LRN size")]
    [InlineData("\"lrn\":{\"size\":5,\"alpha\":0.0001,\"beta\":0.75,\"k\":0,\"acrossTowers\":true}", "LRN k")]
    [InlineData("\"lrn\":{\"size\":5,\"alpha\":\"NaN\",\"beta\":0.75,\"k\":1,\"acrossTowers\":true}", "LRN alpha")]
    [InlineData("\"channelOrder\":\"Cmyk\"", "not valid JSON")]
    [InlineData("\"conv1Padding\":0,\"inputSize\":63", "pool5 empty")]
    public void ManifestWithBadNetworkSettingsIsRefused(string field, string named)
    {
        string json = $"{{\"format\":1,\"version\":\"v1\",\"classes\":[\"a\",\"b\"],\"inputSize\":227,\"baseSize\":256,\"mean\":[1,2,3],\"weightsSha256\":\"{new string('0', 64)}\",{field}}}";
        var error = Assert.Throws<InvalidDataException>(() => ModelManifest.FromJson(System.Text.Encoding.UTF8.GetBytes(json)));
        output.WriteLine(error.Message);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ManifestWithoutNetworkSettingsHashesAsBefore()
    {
        // A package of the project's own network writes none of the new fields, so its manifest and hash are as before.
        var manifest = new ModelManifest { Version = "v1", Classes = ["a", "b"], InputSize = 64, BaseSize = 72, Mean = [1, 2, 3], WeightsSha256 = new string('0', 64) };
        string json = System.Text.Encoding.UTF8.GetString(manifest.WithSemanticsOf(new AlexNetOptions { Classes = 2, InputSize = 64 }).ToJson());
        Assert.DoesNotContain("conv1Padding", json, StringComparison.Ordinal);
        Assert.DoesNotContain("lrn", json, StringComparison.Ordinal);
        Assert.DoesNotContain("channelOrder", json, StringComparison.Ordinal);
        Assert.DoesNotContain("ceilPooling", json, StringComparison.Ordinal);
        Assert.Equal(manifest.ComputeManifestSha256(), manifest.WithSemanticsOf(new AlexNetOptions { Classes = 2, InputSize = 64 }).ComputeManifestSha256());
        Assert.NotEqual(manifest.ComputeManifestSha256(), (manifest with { Lrn = LrnSettings.Caffe }).ComputeManifestSha256());
    }

    private static ModelPackage Import(string file)
    {
        lock (Imported)
        {
            if (Imported.TryGetValue(file, out ModelPackage? cached))
                return cached;
            string extension = file.Contains(".caffemodel", StringComparison.Ordinal) ? ".caffemodel" : ".onnx";
            string path = Path.Combine(Path.GetTempPath(), $"alexnet-fixture-{Guid.NewGuid():N}{extension}");
            File.WriteAllBytes(path, Decompress(file));
            try
            {
                return Imported[file] = PretrainedImport.Import(path);
            }
            finally
            {
                File.Delete(path);
            }
        }
    }

    private static byte[] Decompress(string file)
    {
        using var gzip = new GZipStream(File.OpenRead(Path.Combine(FixtureFolder(), file)), CompressionMode.Decompress);
        using var bytes = new MemoryStream();
        gzip.CopyTo(bytes);
        return bytes.ToArray();
    }

    /// <summary>The fixture images decoded as the labeler decodes them; each must be the very pixels the reference used.</summary>
    private static List<byte[]> Images()
    {
        var decoder = new ImageDecoder();
        var images = new List<byte[]>();
        foreach (JsonElement image in Reference().GetProperty("images").EnumerateArray())
        {
            ImageDecodeResult decoded = decoder.Decode(File.ReadAllBytes(Path.Combine(FixtureFolder(), image.GetProperty("file").GetString()!)), PretrainedImport.BaseSize);
            Assert.True(decoded.IsDecoded, $"{image.GetProperty("file")} did not decode: {decoded.Rejection}");
            Assert.Equal(image.GetProperty("rgb_sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(decoded.Image.Pixels)));
            images.Add(decoded.Image.Pixels);
        }
        return images;
    }

    private static JsonElement Reference() =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(FixtureFolder(), "reference.json"))).RootElement;

    private static string FixtureFolder()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "tests", "fixtures", "pretrained");
            if (File.Exists(Path.Combine(candidate, "reference.json")))
                return candidate;
        }
        throw new InvalidOperationException($"tests/fixtures/pretrained/reference.json not found above {AppContext.BaseDirectory}; the fixtures are committed with the repository");
    }

    private static int[] Top5(float[] probabilities) =>
        [.. probabilities.Select((p, i) => (p, i)).OrderByDescending(x => x.p).Take(5).Select(x => x.i)];
}
