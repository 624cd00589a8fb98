using System.Runtime.InteropServices;
using AlexNet.Model.Interchange.Onnx;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using Google.Protobuf;
using TorchSharp;
using static TorchSharp.torch;

namespace AlexNet.Model.Interchange;

/// <summary>
/// A model package as an ONNX graph of the grouped network, for serving elsewhere (ONNX Runtime, Triton). The graph
/// takes centre crops as float NCHW RGB pixels on the 0-255 scale and subtracts the manifest's mean and divides by its
/// std itself, then: conv1, ReLU, LRN, max-pool; conv2 (group 2), ReLU, LRN, max-pool; conv3; conv4 (group 2); conv5
/// (group 2), max-pool; flatten; fc6, fc7 (Gemm, ReLU; dropout is an identity at inference and left out); fc8; Softmax.
/// LRN runs on each tower's half of the channels (Split, LRN, Concat), as <see cref="GroupLocalResponseNorm"/> does.
/// Class names and preprocessing travel in <c>metadata_props</c>.
/// </summary>
public static class OnnxExport
{
    /// <summary>
    /// ONNX operator set 17 (ONNX 1.12, 2022): every operator used here has had its current form since opset 13 or
    /// earlier (Split with equal halves by output count, Softmax over one axis), and ONNX Runtime 1.12 and later run it.
    /// </summary>
    public const int Opset = 17;

    /// <summary>The IR version that goes with opset 17.</summary>
    public const int IrVersion = 8;

    public const string InputName = "image";
    public const string OutputName = "probabilities";

    /// <summary>Builds the package's network (which checks every tensor's shape against the manifest) and exports it.</summary>
    public static ModelProto Export(ModelPackage package)
    {
        ArgumentNullException.ThrowIfNull(package);
        using var scope = NewDisposeScope();
        using AlexNetNetwork network = package.CreateNetwork(AlexNetLayout.Grouped);
        Dictionary<string, Tensor> weights = network.ExportWeights();
        return Export(package.Manifest, weights);
    }

    /// <summary>The ONNX model for a manifest and the canonical weights of its network (<c>conv1.weight</c> .. <c>fc8.bias</c>).</summary>
    public static ModelProto Export(ModelManifest manifest, IReadOnlyDictionary<string, Tensor> weights)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(weights);
        AlexNetOptions network = manifest.NetworkOptions();
        using var scope = NewDisposeScope();
        if (network.InputChannelOrder == ChannelOrder.Bgr)
        {
            // The graph takes RGB like every export; reversing conv1's input channels is exactly the network's own flip.
            var reordered = weights.ToDictionary();
            reordered["conv1.weight"] = weights["conv1.weight"].flip(1);
            weights = reordered;
        }
        var graph = new GraphBuilder(weights, network);
        int size = manifest.InputSize;

        string x = graph.Node("Sub", [InputName, graph.Constant("mean", manifest.Mean)], "centred");
        if (manifest.Std is { } std)
            x = graph.Node("Div", [x, graph.Constant("std", std)], "normalised");
        x = graph.Conv("conv1", x, kernel: 11, stride: 4, pad: network.Conv1Padding, groups: 1);
        x = graph.MaxPool("pool1", graph.Lrn("lrn1", graph.Relu("relu1", x)));
        x = graph.Conv("conv2", x, kernel: 5, stride: 1, pad: 2, groups: AlexNetArchitecture.Towers);
        x = graph.MaxPool("pool2", graph.Lrn("lrn2", graph.Relu("relu2", x)));
        x = graph.Relu("relu3", graph.Conv("conv3", x, kernel: 3, stride: 1, pad: 1, groups: 1));
        x = graph.Relu("relu4", graph.Conv("conv4", x, kernel: 3, stride: 1, pad: 1, groups: AlexNetArchitecture.Towers));
        x = graph.MaxPool("pool5", graph.Relu("relu5", graph.Conv("conv5", x, kernel: 3, stride: 1, pad: 1, groups: AlexNetArchitecture.Towers)));
        x = graph.Node("Flatten", [x], "flatten", Attribute("axis", 1L));
        x = graph.Relu("relu6", graph.Gemm("fc6", x));
        x = graph.Relu("relu7", graph.Gemm("fc7", x));
        x = graph.Gemm("fc8", x);
        graph.Node("Softmax", [x], OutputName, Attribute("axis", 1L));

        GraphProto proto = graph.Proto;
        proto.Name = "alexnet";
        proto.Input.Add(Value(InputName, new TensorShapeProto.Types.Dimension { DimParam = "N" }, Fixed(3), Fixed(size), Fixed(size)));
        proto.Output.Add(Value(OutputName, new TensorShapeProto.Types.Dimension { DimParam = "N" }, Fixed(manifest.Classes.Count)));

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "AlexNet.Pipeline",
            ProducerVersion = manifest.CodeVersion ?? "unknown",
            Domain = "alexnet.pipeline",
            DocString = "AlexNet (Krizhevsky, Sutskever, Hinton 2012), grouped layout, exported from a model package by alexnet export.",
            Graph = proto,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (key, value) in Metadata(manifest))
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model;
    }

    /// <summary>The package's metadata (<see cref="ExportMetadata"/>) and what the graph's input and output are.</summary>
    public static IReadOnlyList<(string Key, string Value)> Metadata(ModelManifest manifest) =>
    [
        .. ExportMetadata.For(manifest),
        ("input", $"{InputName}: float32 NCHW [N, 3, {manifest.InputSize}, {manifest.InputSize}], RGB pixels on the 0-255 scale; the graph subtracts mean and divides by std itself"),
        ("output", $"{OutputName}: softmax over the {manifest.Classes.Count} classes, in the order of 'classes'"),
    ];

    /// <summary>Writes the model through a temporary file and a rename.</summary>
    public static void Write(ModelProto model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        AtomicFile.Write(path, model.ToByteArray());
    }

    private static ValueInfoProto Value(string name, params TensorShapeProto.Types.Dimension[] dimensions)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(dimensions);
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private static TensorShapeProto.Types.Dimension Fixed(long value) => new() { DimValue = value };

    private static AttributeProto Attribute(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Attribute(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    private static AttributeProto Attribute(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.Add(values);
        return attribute;
    }

    /// <summary>Nodes in topological order and the weights they use as initializers.</summary>
    private sealed class GraphBuilder(IReadOnlyDictionary<string, Tensor> weights, AlexNetOptions network)
    {
        public GraphProto Proto { get; } = new();

        public string Node(string op, IEnumerable<string> inputs, string output, params AttributeProto[] attributes) =>
            Node(op, inputs, [output], attributes)[0];

        public string[] Node(string op, IEnumerable<string> inputs, string[] outputs, params AttributeProto[] attributes)
        {
            var node = new NodeProto { OpType = op, Name = outputs[0] };
            node.Input.Add(inputs);
            node.Output.Add(outputs);
            node.Attribute.Add(attributes);
            Proto.Node.Add(node);
            return outputs;
        }

        public string Constant(string name, IReadOnlyList<float> perChannel)
        {
            Proto.Initializer.Add(Tensor(name, [1, perChannel.Count, 1, 1], [.. perChannel]));
            return name;
        }

        public string Conv(string layer, string input, int kernel, int stride, int pad, int groups) =>
            Node("Conv", [input, Weight($"{layer}.weight"), Weight($"{layer}.bias")], layer,
                Attribute("kernel_shape", kernel, kernel), Attribute("strides", stride, stride),
                Attribute("pads", pad, pad, pad, pad), Attribute("dilations", 1, 1), Attribute("group", (long)groups));

        /// <summary>Gemm with the weight as stored ([out, in]): y = x W^T + b, as a Linear layer computes.</summary>
        public string Gemm(string layer, string input) =>
            Node("Gemm", [input, Weight($"{layer}.weight"), Weight($"{layer}.bias")], layer, Attribute("transB", 1L));

        public string Relu(string name, string input) => Node("Relu", [input], name);

        public string MaxPool(string name, string input) => network.CeilPooling
            ? Node("MaxPool", [input], name, Attribute("kernel_shape", 3, 3), Attribute("strides", 2, 2), Attribute("ceil_mode", 1L))
            : Node("MaxPool", [input], name, Attribute("kernel_shape", 3, 3), Attribute("strides", 2, 2));

        /// <summary>
        /// The paper's LRN within each tower's half of the channels, or over all of them when the network's LRN spans
        /// both towers (Caffe's). ONNX's LRN divides alpha by the window size as TorchSharp does, so the attributes are
        /// those <see cref="GroupLocalResponseNorm"/> gives TorchSharp.
        /// </summary>
        public string Lrn(string name, string input)
        {
            LrnSettings lrn = network.Lrn;
            AttributeProto[] attributes =
            [
                Attribute("size", (long)lrn.Size), Attribute("alpha", (float)lrn.Alpha),
                Attribute("beta", (float)lrn.Beta), Attribute("bias", (float)lrn.K),
            ];
            if (lrn.AcrossTowers)
                return Node("LRN", [input], name, attributes);
            string[] halves = Node("Split", [input], [$"{name}_tower0_in", $"{name}_tower1_in"], Attribute("axis", 1L));
            string[] normalised = [.. halves.Select((half, tower) => Node("LRN", [half], $"{name}_tower{tower}", attributes))];
            return Node("Concat", normalised, name, Attribute("axis", 1L));
        }

        private string Weight(string name)
        {
            if (!weights.TryGetValue(name, out Tensor? tensor))
                throw new InvalidDataException($"the weights have no {name}");
            using var scope = NewDisposeScope();
            float[] values = tensor.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
            Proto.Initializer.Add(Tensor(name, tensor.shape, values));
            return name;
        }

        private static TensorProto Tensor(string name, long[] shape, float[] values)
        {
            if (!BitConverter.IsLittleEndian)
                throw new PlatformNotSupportedException("ONNX raw_data is little-endian");
            var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) };
            proto.Dims.Add(shape);
            return proto;
        }
    }
}
