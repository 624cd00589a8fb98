using System.Runtime.InteropServices;
using AlexNet.Model.Interchange.Onnx;
using AlexNet.Model.Network;
using Google.Protobuf;

namespace AlexNet.Model.Interchange;

/// <summary>
/// Reads an ONNX AlexNet such as the model zoo's bvlcalexnet (converted from Caffe's bvlc_alexnet): Conv and Gemm
/// nodes in the graph's node order are conv1..conv5 and fc6..fc8, their initializers the weights; LRN and MaxPool
/// nodes give the settings. The graph must feed the image straight into conv1 (the zoo's takes Caffe's input: BGR,
/// mean subtracted, so the package subtracts Caffe's mean and reverses the channels).
/// </summary>
internal static class OnnxImport
{
    /// <summary>The model zoo's input side when the graph does not fix one.</summary>
    public const int DefaultInputSize = 224;

    public static PretrainedNetwork Read(byte[] file, string fileName)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(file);
        }
        catch (InvalidProtocolBufferException error)
        {
            throw new InvalidDataException($"{fileName} is not an ONNX model (ModelProto): {error.Message}", error);
        }
        GraphProto graph = model.Graph ?? throw new InvalidDataException($"{fileName} is not an ONNX model: it has no graph");
        string description = $"ONNX model {fileName}" + (graph.Name is { Length: > 0 } name ? $" ('{name}')" : "");
        var initializers = new Dictionary<string, TensorProto>(StringComparer.Ordinal);
        foreach (TensorProto tensor in graph.Initializer)
            initializers[tensor.Name] = tensor;
        var producers = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (NodeProto node in graph.Node)
        {
            foreach (string output in node.Output)
                producers[output] = node;
        }
        ValueInfoProto input = graph.Input.FirstOrDefault(i => !initializers.ContainsKey(i.Name))
            ?? throw new InvalidDataException($"{description} has no image input");

        var convolutions = new List<PretrainedConv>();
        var dense = new List<PretrainedDense>();
        var lrns = new List<LrnSettings>();
        var pools = new List<bool>();
        foreach (NodeProto node in graph.Node)
        {
            switch (node.OpType)
            {
                case "Conv":
                    if (convolutions.Count == 0 && node.Input[0] != input.Name)
                    {
                        throw new InvalidDataException(
                            $"{description}: conv1 ('{Name(node)}') reads '{node.Input[0]}', not the image input '{input.Name}'; graphs that preprocess their input inside are not imported");
                    }
                    convolutions.Add(Convolution(node, initializers, description));
                    break;
                case "Gemm":
                    dense.Add(Dense(node, initializers, description));
                    break;
                case "LRN":
                    // An LRN fed by a Split normalises one tower's half (this project's own export); else all channels.
                    bool perTower = node.Input.Count > 0 && producers.TryGetValue(node.Input[0], out NodeProto? producer) && producer.OpType == "Split";
                    lrns.Add(new LrnSettings((int)Int(node, "size", 0), PretrainedImport.Decimal(Float(node, "alpha", 1e-4f)), PretrainedImport.Decimal(Float(node, "beta", 0.75f)), PretrainedImport.Decimal(Float(node, "bias", 1f)), AcrossTowers: !perTower));
                    break;
                case "MaxPool":
                    pools.Add(CeilPooling(node, description));
                    break;
                case "AveragePool" or "GlobalAveragePool" or "GlobalMaxPool" or "BatchNormalization" or "MatMul":
                    throw new InvalidDataException($"{description}: node '{Name(node)}' is a {node.OpType}, which the 2012 network does not have");
            }
        }

        var lrnSettings = lrns.Distinct().ToList();
        if (lrns.Count is not (2 or 4) || lrnSettings.Count != 1)
            throw new InvalidDataException($"{description} has {lrns.Count} LRN nodes with {lrnSettings.Count} different settings; the 2012 network has one LRN setting after conv1 and conv2");
        if (lrnSettings[0].Error() is { } lrnError)
            throw new InvalidDataException($"{description}: {lrnError}");
        if (pools.Count != 3 || pools.Distinct().Count() != 1)
            throw new InvalidDataException($"{description} has {pools.Count} max-pools rounding {string.Join(" and ", pools.Distinct().Select(c => c ? "up" : "down"))}; the 2012 network has 3, rounding one way");

        return new PretrainedNetwork(convolutions, dense, lrnSettings[0], pools[0], InputSize(input, description),
            [.. PretrainedImport.CaffeMeanRgb], ChannelOrder.Bgr, description);
    }

    private static string Name(NodeProto node) => node.Name is { Length: > 0 } name ? name : node.Output.FirstOrDefault() ?? node.OpType;

    private static PretrainedConv Convolution(NodeProto node, IReadOnlyDictionary<string, TensorProto> initializers, string description)
    {
        if (Attribute(node, "auto_pad") is { } autoPad && autoPad.S.ToStringUtf8() is not ("" or "NOTSET"))
            throw new InvalidDataException($"{description}: Conv '{Name(node)}' pads automatically ({autoPad.S.ToStringUtf8()}); explicit pads are expected");
        long[] kernel = Ints(node, "kernel_shape");
        long[] strides = Ints(node, "strides");
        long[] pads = Ints(node, "pads");
        long[] dilations = Ints(node, "dilations");
        if (kernel.Length is not (0 or 2) || kernel.Distinct().Count() > 1 || strides.Distinct().Count() > 1 || pads.Distinct().Count() > 1 || dilations.Any(d => d != 1))
        {
            throw new InvalidDataException(
                $"{description}: Conv '{Name(node)}' has kernel [{string.Join(", ", kernel)}], strides [{string.Join(", ", strides)}], pads [{string.Join(", ", pads)}], dilations [{string.Join(", ", dilations)}]; square kernels, equal pads and no dilation are expected");
        }
        var (weight, shape) = Tensor(node, 1, initializers, description);
        float[] bias = node.Input.Count > 2 && node.Input[2].Length > 0 ? Tensor(node, 2, initializers, description).Data : new float[shape.Length > 0 ? shape[0] : 0];
        int k = kernel.Length > 0 ? (int)kernel[0] : shape.Length == 4 ? (int)shape[3] : 0;
        return new PretrainedConv(Name(node), k, strides.Length > 0 ? (int)strides[0] : 1, pads.Length > 0 ? (int)pads[0] : 0, (int)Int(node, "group", 1), shape, weight, bias);
    }

    private static PretrainedDense Dense(NodeProto node, IReadOnlyDictionary<string, TensorProto> initializers, string description)
    {
        if (Int(node, "transA", 0) != 0 || Float(node, "alpha", 1f) != 1f || Float(node, "beta", 1f) != 1f)
            throw new InvalidDataException($"{description}: Gemm '{Name(node)}' transposes its input or scales by alpha or beta; x W^T + b is expected");
        var (weight, shape) = Tensor(node, 1, initializers, description);
        if (shape.Length != 2)
            throw new InvalidDataException($"{description}: Gemm '{Name(node)}' has weights of shape [{string.Join(", ", shape)}], not a matrix");
        long outputs = shape[0], inputs = shape[1];
        if (Int(node, "transB", 0) == 0)
        {
            // transB = 0 stores [in, out]; the network holds [out, in].
            weight = CaffeImport.Transpose(weight, shape[0], shape[1]);
            (outputs, inputs) = (shape[1], shape[0]);
        }
        float[] bias = node.Input.Count > 2 && node.Input[2].Length > 0 ? Tensor(node, 2, initializers, description).Data : new float[outputs];
        return new PretrainedDense(Name(node), outputs, inputs, weight, bias);
    }

    /// <summary>
    /// Whether a 3x3/2 max-pool rounds up: <c>ceil_mode</c> 1 without padding, or (as converters from Caffe write it)
    /// one row and column of padding at the end, which gives the same windows and maxima.
    /// </summary>
    private static bool CeilPooling(NodeProto node, string description)
    {
        long[] kernel = Ints(node, "kernel_shape");
        long[] strides = Ints(node, "strides");
        long[] pads = Ints(node, "pads");
        bool ceil = Int(node, "ceil_mode", 0) != 0;
        if (!kernel.SequenceEqual([3L, 3L]) || !strides.SequenceEqual([2L, 2L]))
            throw new InvalidDataException($"{description}: MaxPool '{Name(node)}' is [{string.Join(", ", kernel)}] / [{string.Join(", ", strides)}]; the 2012 network max-pools 3x3 with stride 2");
        if (pads.Length == 0 || pads.All(p => p == 0))
            return ceil;
        if (!ceil && pads.SequenceEqual([0L, 0L, 1L, 1L]))
            return true;
        throw new InvalidDataException($"{description}: MaxPool '{Name(node)}' pads [{string.Join(", ", pads)}]{(ceil ? " with ceil_mode" : "")}; none, or [0, 0, 1, 1] for Caffe's rounding, is expected");
    }

    private static int InputSize(ValueInfoProto input, string description)
    {
        var dims = input.Type?.TensorType?.Shape?.Dim;
        if (dims is not { Count: 4 })
            return DefaultInputSize;
        long? channels = dims[1].HasDimValue ? dims[1].DimValue : null;
        long? height = dims[2].HasDimValue ? dims[2].DimValue : null;
        long? width = dims[3].HasDimValue ? dims[3].DimValue : null;
        if (channels is not (null or 3) || height != width)
            throw new InvalidDataException($"{description}: its input '{input.Name}' is [{string.Join(", ", dims.Select(d => d.HasDimValue ? d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture) : d.DimParam))}]; square 3-channel images are expected");
        return height is { } side ? (int)Math.Min(side, int.MaxValue) : DefaultInputSize;
    }

    /// <summary>An initializer input of a node as floats with its shape (raw little-endian data or float_data).</summary>
    private static (float[] Data, long[] Shape) Tensor(NodeProto node, int index, IReadOnlyDictionary<string, TensorProto> initializers, string description)
    {
        if (node.Input.Count <= index || !initializers.TryGetValue(node.Input[index], out TensorProto? tensor))
            throw new InvalidDataException($"{description}: {node.OpType} '{Name(node)}' has no initializer for input {index}; its weights must be stored in the file");
        if (tensor.DataType != (int)TensorProto.Types.DataType.Float)
            throw new InvalidDataException($"{description}: initializer '{tensor.Name}' is of ONNX type {tensor.DataType}, not float");
        long[] shape = [.. tensor.Dims];
        long count = PretrainedImport.ShapeSize(shape);
        float[] data;
        if (!tensor.RawData.IsEmpty)
        {
            if (!BitConverter.IsLittleEndian)
                throw new PlatformNotSupportedException("ONNX raw_data is little-endian");
            if (tensor.RawData.Length % sizeof(float) != 0)
                throw new InvalidDataException($"{description}: initializer '{tensor.Name}' has {tensor.RawData.Length} bytes, not whole floats");
            data = MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray();
        }
        else
        {
            data = [.. tensor.FloatData];
        }
        if (shape.Any(d => d < 0) || data.LongLength != count)
            throw new InvalidDataException($"{description}: initializer '{tensor.Name}' declares shape [{string.Join(", ", shape)}] but holds {data.LongLength} values");
        return (data, shape);
    }

    private static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    private static long Int(NodeProto node, string name, long missing) => Attribute(node, name) is { } a ? a.I : missing;

    private static float Float(NodeProto node, string name, float missing) => Attribute(node, name) is { } a ? a.F : missing;

    private static long[] Ints(NodeProto node, string name) => Attribute(node, name) is { } a ? [.. a.Ints] : [];
}
