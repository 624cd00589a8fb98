using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using TorchSharp;
using static TorchSharp.torch;

namespace AlexNet.Model.Tests.Packaging;

/// <summary>
/// Packages write <c>weights.safetensors</c>. Checked with a reader written here from the format's description (8-byte
/// little-endian header length, JSON header, raw data), not with the project's reader.
/// </summary>
public sealed class SafetensorsTests : IDisposable
{
    private static readonly string[] CanonicalNames =
        [.. new[] { "conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8" }.SelectMany(l => new[] { $"{l}.weight", $"{l}.bias" })];

    private readonly string directory = Directory.CreateTempSubdirectory("alexnet-safetensors-").FullName;

    [Fact]
    public void ANewPackageWritesSafetensorsThatAnIndependentReaderReadsAsTheNetworksWeights()
    {
        using var scope = NewDisposeScope();
        using var network = AlexNetFactory.Create(new AlexNetOptions { Classes = 10, InputSize = 64, Seed = 3 });
        ModelPackage package = ModelPackage.Create(Manifest(), network);
        package.SaveDirectory(directory);

        Assert.Equal("weights.safetensors", package.Manifest.WeightsFile);
        byte[] file = File.ReadAllBytes(Path.Combine(directory, "weights.safetensors"));
        Dictionary<string, float[]> read = IndependentReader.Read(file, out Dictionary<string, long[]> shapes, out Dictionary<string, string> metadata);

        Assert.Equal(CanonicalNames.Order(StringComparer.Ordinal), read.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("pt", metadata["format"]);
        foreach (var (name, tensor) in network.ExportWeights())
        {
            Assert.Equal(tensor.shape, shapes[name]);
            Assert.Equal(tensor.data<float>().ToArray(), read[name]);
        }
        Assert.Equal(0, (8 + BinaryPrimitives.ReadInt64LittleEndian(file)) % 8);
    }

    [Fact]
    public void BothLayoutsWriteTheSameSafetensorsBytes()
    {
        using var scope = NewDisposeScope();
        using var grouped = AlexNetFactory.Create(new AlexNetOptions { Classes = 10, InputSize = 64, Seed = 4 });
        using var towers = AlexNetFactory.Create(new AlexNetOptions { Classes = 10, InputSize = 64, Layout = AlexNetLayout.TwoTower, Seed = 9 });
        towers.ImportWeights(grouped.ExportWeights());

        ModelPackage fromGrouped = ModelPackage.Create(Manifest(), grouped);
        ModelPackage fromTowers = ModelPackage.Create(Manifest(), towers);

        Assert.Equal(AlexNetLayout.TwoTower, fromTowers.Manifest.Layout);
        Assert.Equal(fromGrouped.WeightsBytes.ToArray(), fromTowers.WeightsBytes.ToArray());
        Assert.Equal(CanonicalNames.Order(StringComparer.Ordinal), IndependentReader.Read(fromTowers.WeightsBytes.ToArray(), out _, out _).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void APackageRoundTripsThroughSafetensorsBitForBit()
    {
        using var scope = NewDisposeScope();
        using var network = AlexNetFactory.Create(new AlexNetOptions { Classes = 10, InputSize = 64, Seed = 5 });
        ModelPackage.Create(Manifest(), network).SaveDirectory(directory);

        ModelPackage loaded = ModelPackage.LoadDirectory(directory);
        using var rebuilt = loaded.CreateNetwork(AlexNetLayout.TwoTower);

        var expected = network.ExportWeights();
        var actual = rebuilt.ExportWeights();
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, tensor) in expected)
            Assert.True(tensor.equal(actual[name]).all().item<bool>(), name);
    }

    [Fact]
    public void APackageInTheEarlierFormatStillLoadsAndGivesIdenticalOutputs()
    {
        using var scope = NewDisposeScope();
        ModelPackage current = TestModels.SmallPackage(seed: 8);
        TestModels.LegacyPackage(current).SaveDirectory(directory);
        Assert.True(File.Exists(Path.Combine(directory, "weights.bin")));
        Assert.Equal("ALEXW001"u8.ToArray(), File.ReadAllBytes(Path.Combine(directory, "weights.bin")).AsSpan(0, 8).ToArray());

        ModelPackage legacy = ModelPackage.LoadDirectory(directory);
        using var fromLegacy = legacy.CreateNetwork();
        using var fromCurrent = current.CreateNetwork();
        fromLegacy.eval();
        fromCurrent.eval();
        using var inference = torch.inference_mode();
        torch.manual_seed(2);
        Tensor input = torch.randn(4, 3, 64, 64) * 50;
        Tensor a = fromLegacy.call(input);
        Tensor b = fromCurrent.call(input);

        Assert.Equal("weights.bin", legacy.Manifest.WeightsFile);
        Assert.True(a.abs().max().item<float>() > 1e-3, "logits near zero would prove nothing");
        Assert.True(a.equal(b).all().item<bool>(), $"largest difference {(a - b).abs().max().item<float>()}");
    }

    [Theory]
    [InlineData(ulong.MaxValue, "more than the 1048576 read")]
    [InlineData(2UL * 1024 * 1024, "more than the 1048576 read")]
    [InlineData(5000UL, "truncated or corrupt")]
    public void AHeaderLengthLargerThanTheFileOrTheLimitIsRefused(ulong declared, string expected)
    {
        byte[] bytes = Valid();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declared);

        var error = Assert.Throws<InvalidDataException>(() => SafetensorsFormat.Deserialize(bytes));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[3],"data_offsets":[4,16]}}""", "'b' at bytes [4, 16] overlaps")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}""", "gap at bytes [8, 12]")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", "4 unexpected trailing bytes")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,20]}}""", "'b' has shape [2] (8 bytes of F32) but data_offsets [8, 20]")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[3],"data_offsets":[8,24]}}""", "not a range within the 20 data bytes")]
    [InlineData("""{"a":{"dtype":"F32","shape":[NaN],"data_offsets":[0,8]}}""", "not valid JSON")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}""", "shape holding 2.5")]
    [InlineData("""{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", "shape holding -2")]
    [InlineData("""{"a":{"dtype":"F32","shape":[9223372036854775807,9223372036854775807],"data_offsets":[0,20]}}""", "more than the file's 20 data bytes")]
    [InlineData("""{"a":{"dtype":"F16","shape":[10],"data_offsets":[0,20]}}""", "'a' is F16; only F32 is read")]
    [InlineData("""{"a":{"dtype":"F32","shape":[5],"data_offsets":[0,20]},"a":{"dtype":"F32","shape":[5],"data_offsets":[0,20]}}""", "names 'a' twice")]
    [InlineData("""{"a":{"dtype":"F32","shape":[5]}}""", "'a' has no data_offsets")]
    [InlineData("""[1,2,3]""", "not a JSON object")]
    [InlineData("""{"__metadata__":{"format":1},"a":{"dtype":"F32","shape":[5],"data_offsets":[0,20]}}""", "__metadata__ must map names to strings")]
    public void AHostileHeaderIsRefusedNamingTheFault(string header, string expected)
    {
        byte[] bytes = IndependentWriter.Write(header, new byte[20]);

        var error = Assert.Throws<InvalidDataException>(() => SafetensorsFormat.Deserialize(bytes));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AWellFormedFileFromAnotherWriterIsRead()
    {
        float[] values = [1f, -2f, 3.5f, 0f, 1e-7f];
        byte[] data = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        byte[] bytes = IndependentWriter.Write("""{"b":{"dtype":"F32","shape":[1,3],"data_offsets":[8,20]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", data);

        Dictionary<string, Tensor> read = SafetensorsFormat.Deserialize(bytes);
        try
        {
            Assert.Equal([2L], read["a"].shape);
            Assert.Equal([1L, 3L], read["b"].shape);
            Assert.Equal(values[..2], read["a"].data<float>().ToArray());
            Assert.Equal(values[2..], read["b"].data<float>().ToArray());
        }
        finally
        {
            foreach (Tensor tensor in read.Values)
                tensor.Dispose();
        }
    }

    [Fact]
    public void AHostileSafetensorsFileInAPackageIsRefusedWhenTheNetworkIsBuilt()
    {
        ModelPackage package = TestModels.SmallPackage();
        byte[] bytes = package.WeightsBytes.ToArray();
        // Same length, so the package's size check passes and the safetensors reader must catch it.
        byte[] edited = ReplaceOnce(bytes, "\"conv1.bias\":{\"dtype\":\"F32\",\"shape\":[96]", "\"conv1.bias\":{\"dtype\":\"F32\",\"shape\":[69]");
        ModelPackage.FromWeights(package.Manifest, edited).SaveDirectory(directory);

        ModelPackage hostile = ModelPackage.LoadDirectory(directory);
        var error = Assert.Throws<InvalidDataException>(() => hostile.CreateNetwork());

        Assert.Contains("'conv1.bias' has shape [69]", error.Message, StringComparison.Ordinal);
    }

    internal static byte[] ReplaceOnce(byte[] bytes, string from, string to)
    {
        Assert.Equal(from.Length, to.Length);
        int headerLength = (int)BinaryPrimitives.ReadInt64LittleEndian(bytes);
        string header = Encoding.UTF8.GetString(bytes, 8, headerLength);
        int at = header.IndexOf(from, StringComparison.Ordinal);
        Assert.True(at >= 0, $"'{from}' is not in the header {header}");
        byte[] copy = bytes.ToArray();
        Encoding.UTF8.GetBytes(to).CopyTo(copy, 8 + at);
        return copy;
    }

    private static byte[] Valid() => IndependentWriter.Write("""{"a":{"dtype":"F32","shape":[5],"data_offsets":[0,20]}}""", new byte[20]);

    private static ModelManifest Manifest() => new()
    {
        Version = "st-1",
        Classes = [.. Enumerable.Range(0, 10).Select(i => $"c{i}")],
        InputSize = 64,
        BaseSize = 72,
        Mean = [100f, 100f, 100f],
        WeightsSha256 = "pending",
        CreatedAt = DateTimeOffset.UnixEpoch,
    };

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>Writes a safetensors file from a header text and data, as the format describes it.</summary>
    private static class IndependentWriter
    {
        public static byte[] Write(string header, byte[] data)
        {
            byte[] json = Encoding.UTF8.GetBytes(header);
            return [.. BitConverter.GetBytes((ulong)json.Length), .. json, .. data];
        }
    }

    /// <summary>Reads a safetensors file as the format describes it, checking what a reader must be able to rely on.</summary>
    private static class IndependentReader
    {
        public static Dictionary<string, float[]> Read(byte[] file, out Dictionary<string, long[]> shapes, out Dictionary<string, string> metadata)
        {
            Assert.True(BitConverter.IsLittleEndian);
            long headerLength = BitConverter.ToInt64(file, 0);
            Assert.InRange(headerLength, 2, file.Length - 8);
            using JsonDocument header = JsonDocument.Parse(file.AsMemory(8, (int)headerLength));
            long dataStart = 8 + headerLength, dataLength = file.Length - dataStart;

            shapes = [];
            metadata = [];
            var ranges = new List<(long Begin, long End, string Name)>();
            var values = new Dictionary<string, float[]>();
            foreach (JsonProperty entry in header.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                {
                    foreach (JsonProperty item in entry.Value.EnumerateObject())
                        metadata[item.Name] = item.Value.GetString()!;
                    continue;
                }
                Assert.Equal("F32", entry.Value.GetProperty("dtype").GetString());
                long[] shape = [.. entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64())];
                long[] offsets = [.. entry.Value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64())];
                Assert.Equal(2, offsets.Length);
                Assert.Equal(shape.Aggregate(1L, (a, b) => a * b) * 4, offsets[1] - offsets[0]);
                shapes[entry.Name] = shape;
                ranges.Add((offsets[0], offsets[1], entry.Name));
                var floats = new float[(offsets[1] - offsets[0]) / 4];
                Buffer.BlockCopy(file, (int)(dataStart + offsets[0]), floats, 0, floats.Length * 4);
                values[entry.Name] = floats;
            }
            long next = 0;
            foreach (var (begin, end, name) in ranges.OrderBy(r => r.Begin))
            {
                Assert.True(begin == next, $"{name} starts at {begin}, the one before ended at {next}: a gap or an overlap");
                next = end;
            }
            Assert.Equal(dataLength, next);
            return values;
        }
    }
}
