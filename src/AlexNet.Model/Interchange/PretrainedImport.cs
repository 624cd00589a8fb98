using System.Security.Cryptography;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using TorchSharp;
using static TorchSharp.torch;

namespace AlexNet.Model.Interchange;

/// <summary>The file formats <c>alexnet import-weights</c> reads.</summary>
public enum PretrainedFormat
{
    /// <summary>A Caffe <c>.caffemodel</c> (NetParameter), as bvlc_alexnet is published.</summary>
    Caffe,

    /// <summary>An ONNX model (ModelProto), as the ONNX model zoo's bvlcalexnet is published.</summary>
    Onnx,
}

/// <summary>One convolution as a file holds it: geometry and weights ([out, in / groups, k, k]).</summary>
internal sealed record PretrainedConv(string Source, int Kernel, int Stride, int Pad, int Groups, long[] WeightShape, float[] Weight, float[] Bias);

/// <summary>One fully connected layer as [out, in] weights (transposed on reading where the file stores [in, out]).</summary>
internal sealed record PretrainedDense(string Source, long Outputs, long Inputs, float[] Weight, float[] Bias);

/// <summary>What a reader found in a file: the eight layers in order and the settings the network computes with.</summary>
internal sealed record PretrainedNetwork(
    IReadOnlyList<PretrainedConv> Convolutions,
    IReadOnlyList<PretrainedDense> Dense,
    LrnSettings Lrn,
    bool CeilPooling,
    int InputSize,
    float[] MeanRgb,
    ChannelOrder ChannelOrder,
    string Description);

/// <summary>
/// Reads the 2012 network's weights from Caffe's bvlc_alexnet (<c>.caffemodel</c>) or the ONNX model zoo's
/// bvlcalexnet into a model package with ImageNet's 1,000 class names, recording how that network computes (no conv1
/// padding, ceil pooling, Caffe's LRN, BGR input, Caffe's mean) in the manifest so labeling reproduces it. Files are
/// parsed with Google.Protobuf from the schemas in this folder; any other network (another layer count, kernel,
/// stride, group or shape) is refused naming the layer.
/// </summary>
public static class PretrainedImport
{
    /// <summary>Twice bvlc_alexnet's 233 MB: enough for any encoding of its 61 million weights, and a bound on what is read.</summary>
    public const long MaxFileBytes = 512L * 1024 * 1024;

    /// <summary>Caffe's side of the resized image its crops come from (256x256 in Caffe's ImageNet data).</summary>
    public const int BaseSize = 256;

    /// <summary>
    /// The per-channel means, in RGB order on the 0-255 scale, of Caffe's ILSVRC-2012 mean image
    /// (<c>ilsvrc_2012_mean.binaryproto</c>; B 104.0, G 116.7, R 122.7, the values Caffe's own classifier example
    /// subtracts), which bvlc_alexnet was trained with. Neither file format carries it.
    /// </summary>
    public static IReadOnlyList<float> CaffeMeanRgb { get; } = [122.67891f, 116.66877f, 104.00699f];

    /// <summary>The format a file's name says (.caffemodel, .onnx), else what its first bytes say, else null.</summary>
    public static PretrainedFormat? Detect(string path, ReadOnlySpan<byte> head)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension == ".caffemodel")
            return PretrainedFormat.Caffe;
        if (extension == ".onnx")
            return PretrainedFormat.Onnx;
        if (head.IsEmpty)
            return null;
        // ModelProto opens with ir_version (field 1, varint: 0x08); a NetParameter with its name (field 1, string:
        // 0x0A), V1 layers (field 2: 0x12) or layers (field 100: 0xA2 0x06).
        return head[0] switch
        {
            0x08 => PretrainedFormat.Onnx,
            0x0A or 0x12 => PretrainedFormat.Caffe,
            0xA2 when head.Length > 1 && head[1] == 0x06 => PretrainedFormat.Caffe,
            _ => null,
        };
    }

    /// <summary>Reads a file (at most <see cref="MaxFileBytes"/>) and packages its network as <paramref name="version"/>.</summary>
    public static ModelPackage Import(string path, PretrainedFormat? format = null, string? version = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        byte[] bytes = ReadBounded(path);
        PretrainedFormat resolved = format ?? Detect(path, bytes.AsSpan(0, Math.Min(2, bytes.Length)))
            ?? throw new InvalidDataException("neither its name (.caffemodel, .onnx) nor its first bytes say whether it is a Caffe or an ONNX file; name the format (--format caffe or onnx)");
        return Import(bytes, resolved, version ?? DefaultVersion(resolved, bytes), Path.GetFileName(path));
    }

    /// <summary>Packages the network in <paramref name="file"/>'s bytes.</summary>
    public static ModelPackage Import(byte[] file, PretrainedFormat format, string version, string fileName = "file")
    {
        ArgumentNullException.ThrowIfNull(file);
        if (!ModelManifest.IsValidVersion(version))
            throw new ArgumentException($"version '{version}' must be 1-{ModelManifest.MaxVersionLength} letters, digits, '-', '_' or '.'", nameof(version));
        PretrainedNetwork network = format switch
        {
            PretrainedFormat.Caffe => CaffeImport.Read(file, fileName),
            PretrainedFormat.Onnx => OnnxImport.Read(file, fileName),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown format"),
        };
        return Package(network, version);
    }

    /// <summary><c>bvlc-alexnet-caffe-</c> or <c>bvlcalexnet-onnx-</c> and the first 12 hex digits of the file's SHA-256.</summary>
    public static string DefaultVersion(PretrainedFormat format, ReadOnlySpan<byte> file) =>
        (format == PretrainedFormat.Caffe ? "bvlc-alexnet-caffe-" : "bvlcalexnet-onnx-") + Convert.ToHexStringLower(SHA256.HashData(file))[..12];

    /// <summary>The layer table the importer accepts: the paper's grouped network (conv1's padding is the file's own).</summary>
    private static readonly (string Name, long Outputs, long Inputs, int Kernel, int Stride, int? Pad, int Groups)[] ExpectedConvolutions =
    [
        ("conv1", AlexNetArchitecture.Conv1Kernels, 3, 11, 4, null, 1),
        ("conv2", AlexNetArchitecture.Conv2Kernels, AlexNetArchitecture.Conv1Kernels, 5, 1, 2, AlexNetArchitecture.Towers),
        ("conv3", AlexNetArchitecture.Conv3Kernels, AlexNetArchitecture.Conv2Kernels, 3, 1, 1, 1),
        ("conv4", AlexNetArchitecture.Conv4Kernels, AlexNetArchitecture.Conv3Kernels, 3, 1, 1, AlexNetArchitecture.Towers),
        ("conv5", AlexNetArchitecture.Conv5Kernels, AlexNetArchitecture.Conv4Kernels, 3, 1, 1, AlexNetArchitecture.Towers),
    ];

    internal static ModelPackage Package(PretrainedNetwork found, string version)
    {
        if (found.Convolutions.Count != ExpectedConvolutions.Length || found.Dense.Count != 3)
        {
            throw new InvalidDataException(
                $"{found.Description} has {found.Convolutions.Count} convolutions and {found.Dense.Count} fully connected layers; the 2012 network has 5 and 3");
        }
        for (int i = 0; i < ExpectedConvolutions.Length; i++)
        {
            var expected = ExpectedConvolutions[i];
            PretrainedConv conv = found.Convolutions[i];
            long[] shape = [expected.Outputs, expected.Inputs / expected.Groups, expected.Kernel, expected.Kernel];
            string? wrong =
                conv.Kernel != expected.Kernel ? $"kernel {conv.Kernel}, not {expected.Kernel}"
                : conv.Stride != expected.Stride ? $"stride {conv.Stride}, not {expected.Stride}"
                : expected.Pad is { } pad && conv.Pad != pad ? $"padding {conv.Pad}, not {pad}"
                : conv.Groups != expected.Groups ? $"group {conv.Groups}, not {expected.Groups}"
                : !conv.WeightShape.SequenceEqual(shape) ? $"weights [{string.Join(", ", conv.WeightShape)}], not [{string.Join(", ", shape)}]"
                : conv.Weight.LongLength != ShapeSize(shape) ? $"{conv.Weight.LongLength} weights, not {ShapeSize(shape)}"
                : conv.Bias.LongLength != expected.Outputs ? $"{conv.Bias.LongLength} biases, not {expected.Outputs}"
                : null;
            if (wrong is not null)
                throw new InvalidDataException($"{found.Description}: {expected.Name} (layer '{conv.Source}') has {wrong}");
        }

        var options = new AlexNetOptions
        {
            Classes = (int)Math.Min(found.Dense[2].Outputs, int.MaxValue),
            InputSize = found.InputSize,
            Conv1Padding = found.Convolutions[0].Pad,
            CeilPooling = found.CeilPooling,
            Lrn = found.Lrn,
            InputChannelOrder = found.ChannelOrder,
            Seed = 0,
        };
        if (options.Classes != ImageNetClasses.Count)
            throw new InvalidDataException($"{found.Description}: fc8 (layer '{found.Dense[2].Source}') has {found.Dense[2].Outputs} outputs; ImageNet's {ImageNetClasses.Count} classes are the ones whose names are known");
        if (options.InputSize is < AlexNetOptions.MinInputSize or > ModelManifest.MaxInputSize || AlexNetArchitecture.Pool5Size(options) < 1)
            throw new InvalidDataException($"{found.Description}: input size {options.InputSize} is outside {AlexNetOptions.MinInputSize}-{ModelManifest.MaxInputSize} or leaves pool5 empty");
        (string Name, long Outputs, long Inputs)[] dense =
        [
            ("fc6", AlexNetArchitecture.HiddenUnits, AlexNetArchitecture.Fc6Inputs(options)),
            ("fc7", AlexNetArchitecture.HiddenUnits, AlexNetArchitecture.HiddenUnits),
            ("fc8", options.Classes, AlexNetArchitecture.HiddenUnits),
        ];
        for (int i = 0; i < dense.Length; i++)
        {
            PretrainedDense layer = found.Dense[i];
            if (layer.Outputs != dense[i].Outputs || layer.Inputs != dense[i].Inputs || layer.Weight.LongLength != layer.Outputs * layer.Inputs || layer.Bias.LongLength != layer.Outputs)
            {
                throw new InvalidDataException(
                    $"{found.Description}: {dense[i].Name} (layer '{layer.Source}') is {layer.Outputs}x{layer.Inputs} with {layer.Bias.LongLength} biases; " +
                    $"the 2012 network at input {options.InputSize} (conv1 padding {options.Conv1Padding}, {(options.CeilPooling ? "ceil" : "floor")} pooling) needs {dense[i].Outputs}x{dense[i].Inputs}");
            }
        }

        using var scope = NewDisposeScope();
        var weights = new Dictionary<string, Tensor>();
        for (int i = 0; i < found.Convolutions.Count; i++)
        {
            PretrainedConv conv = found.Convolutions[i];
            weights[$"{ExpectedConvolutions[i].Name}.weight"] = torch.tensor(conv.Weight, conv.WeightShape);
            weights[$"{ExpectedConvolutions[i].Name}.bias"] = torch.tensor(conv.Bias);
        }
        for (int i = 0; i < dense.Length; i++)
        {
            PretrainedDense layer = found.Dense[i];
            weights[$"{dense[i].Name}.weight"] = torch.tensor(layer.Weight, [layer.Outputs, layer.Inputs]);
            weights[$"{dense[i].Name}.bias"] = torch.tensor(layer.Bias);
        }
        using var network = new GroupedAlexNet(options);
        network.ImportWeights(weights);
        var manifest = new ModelManifest
        {
            Version = version,
            Classes = ImageNetClasses.Names,
            InputSize = options.InputSize,
            BaseSize = Math.Max(BaseSize, options.InputSize),
            Mean = found.MeanRgb,
            WeightsSha256 = "pending",
            CreatedAt = DateTimeOffset.UtcNow,
            CodeVersion = typeof(PretrainedImport).Assembly.GetName().Version?.ToString(),
        };
        return ModelPackage.Create(manifest, network);
    }

    /// <summary>A float attribute as the decimal it was written as (1e-4, not 9.99999974e-05), for the manifest.</summary>
    internal static double Decimal(float value) =>
        double.Parse(value.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);

    internal static long ShapeSize(IEnumerable<long> shape) => shape.Aggregate(1L, (a, b) => a * b);

    private static byte[] ReadBounded(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        if (stream.CanSeek && stream.Length > MaxFileBytes)
            throw new InvalidDataException($"{path} is {stream.Length:N0} bytes, more than the {MaxFileBytes:N0} an AlexNet file may have");
        using var content = new MemoryStream(stream.CanSeek ? (int)stream.Length : 0);
        byte[] buffer = new byte[1 << 20];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            if (content.Length + read > MaxFileBytes)
                throw new InvalidDataException($"{path} is longer than the {MaxFileBytes:N0} bytes an AlexNet file may have");
            content.Write(buffer, 0, read);
        }
        return content.ToArray();
    }
}
