using AlexNet.Model.Interchange.Caffe;
using AlexNet.Model.Network;
using Google.Protobuf;

namespace AlexNet.Model.Interchange;

/// <summary>
/// Reads a Caffe <c>.caffemodel</c> (NetParameter) with the current <c>layer</c> field or the deprecated V1
/// <c>layers</c> field, which bvlc_alexnet.caffemodel uses. Convolution and InnerProduct layers are taken in file order
/// as conv1..conv5 and fc6..fc8; LRN and Pooling layers give the settings; the input side comes from the net's input
/// shape, an Input layer or a data layer's crop size (227 if none says).
/// </summary>
internal static class CaffeImport
{
    /// <summary>Caffe's crop for bvlc_alexnet when the file does not say.</summary>
    public const int DefaultInputSize = 227;

    /// <summary>One layer, whichever of the two layer messages it came from.</summary>
    private sealed record Layer(
        string Name, string Type, IReadOnlyList<BlobProto> Blobs, ConvolutionParameter? Convolution, InnerProductParameter? InnerProduct,
        LRNParameter? Lrn, PoolingParameter? Pooling, TransformationParameter? Transform, InputParameter? Input);

    public static PretrainedNetwork Read(byte[] file, string fileName)
    {
        NetParameter net;
        try
        {
            net = NetParameter.Parser.ParseFrom(file);
        }
        catch (InvalidProtocolBufferException error)
        {
            throw new InvalidDataException($"{fileName} is not a Caffe model (NetParameter): {error.Message}", error);
        }
        string description = $"Caffe model {fileName}" + (net.HasName ? $" ('{net.Name}')" : "");
        IReadOnlyList<Layer> layers = net.Layer.Count > 0
            ? [.. net.Layer.Select(l => new Layer(l.Name, l.Type, l.Blobs, l.ConvolutionParam, l.InnerProductParam, l.LrnParam, l.PoolingParam, l.TransformParam, l.InputParam))]
            : [.. net.Layers.Select(l => new Layer(l.Name, V1Type(l.Type), l.Blobs, l.ConvolutionParam, l.InnerProductParam, l.LrnParam, l.PoolingParam, l.TransformParam, null))];
        if (layers.Count == 0)
            throw new InvalidDataException($"{description} has no layers");

        if (layers.Select(l => l.Transform).OfType<TransformationParameter>().FirstOrDefault(t => t.HasScale && t.Scale != 1) is { } scaled)
            throw new InvalidDataException($"{description}: its data layer scales pixels by {scaled.Scale}; this import takes networks fed 0-255 pixels, as bvlc_alexnet is");
        var convolutions = layers.Where(l => l.Type == "Convolution").Select(l => Convolution(l, description)).ToList();
        var dense = layers.Where(l => l.Type == "InnerProduct").Select(l => Dense(l, description)).ToList();
        return new PretrainedNetwork(convolutions, dense, Lrn(layers, description), CeilPooling(layers, description), InputSize(net, layers, description),
            Mean(layers), ChannelOrder.Bgr, description);
    }

    private static string V1Type(V1LayerParameter.Types.LayerType type) => type switch
    {
        V1LayerParameter.Types.LayerType.Convolution => "Convolution",
        V1LayerParameter.Types.LayerType.InnerProduct => "InnerProduct",
        V1LayerParameter.Types.LayerType.Lrn => "LRN",
        V1LayerParameter.Types.LayerType.Pooling => "Pooling",
        V1LayerParameter.Types.LayerType.Data or V1LayerParameter.Types.LayerType.ImageData or V1LayerParameter.Types.LayerType.WindowData => "Data",
        _ => type.ToString(),
    };

    private static PretrainedConv Convolution(Layer layer, string description)
    {
        ConvolutionParameter p = layer.Convolution ?? throw new InvalidDataException($"{description}: convolution '{layer.Name}' has no convolution_param");
        int kernel = Square(p.KernelSize, p.HasKernelH ? p.KernelH : null, p.HasKernelW ? p.KernelW : null, 0, layer, "kernel", description);
        int stride = Square(p.Stride, p.HasStrideH ? p.StrideH : null, p.HasStrideW ? p.StrideW : null, 1, layer, "stride", description);
        int pad = Square(p.Pad, p.HasPadH ? p.PadH : null, p.HasPadW ? p.PadW : null, 0, layer, "pad", description);
        var (weight, shape) = Blob(layer, 0, description);
        float[] bias = p.BiasTerm ? Blob(layer, 1, description).Data : new float[shape.Length > 0 ? shape[0] : 0];
        return new PretrainedConv(layer.Name, kernel, stride, pad, (int)p.Group, shape, weight, bias);
    }

    private static PretrainedDense Dense(Layer layer, string description)
    {
        InnerProductParameter p = layer.InnerProduct ?? throw new InvalidDataException($"{description}: fully connected layer '{layer.Name}' has no inner_product_param");
        var (weight, shape) = Blob(layer, 0, description);
        long[] matrix = [.. shape.SkipWhile(d => d == 1)];
        if (matrix.Length != 2)
            throw new InvalidDataException($"{description}: fully connected layer '{layer.Name}' has weights of shape [{string.Join(", ", shape)}], not a matrix");
        float[] bias = p.BiasTerm ? Blob(layer, 1, description).Data : new float[matrix[0]];
        if (p.Transpose)
        {
            // transpose: true stores [in, out]; the network holds [out, in].
            weight = Transpose(weight, matrix[0], matrix[1]);
            matrix = [matrix[1], matrix[0]];
        }
        return new PretrainedDense(layer.Name, matrix[0], matrix[1], weight, bias);
    }

    internal static float[] Transpose(float[] values, long rows, long columns)
    {
        var result = new float[values.LongLength];
        for (long r = 0; r < rows; r++)
        {
            for (long c = 0; c < columns; c++)
                result[c * rows + r] = values[r * columns + c];
        }
        return result;
    }

    /// <summary>A layer's blob as floats and its shape (the <c>shape</c> field, else the deprecated num/channels/height/width).</summary>
    private static (float[] Data, long[] Shape) Blob(Layer layer, int index, string description)
    {
        if (layer.Blobs.Count <= index)
            throw new InvalidDataException($"{description}: layer '{layer.Name}' has {layer.Blobs.Count} weight blobs; it needs {(index == 0 ? "weights" : "weights and biases")}");
        BlobProto blob = layer.Blobs[index];
        long[] shape = blob.Shape is { } s ? [.. s.Dim] : [blob.Num, blob.Channels, blob.Height, blob.Width];
        float[] data = blob.Data.Count > 0 ? [.. blob.Data] : [.. blob.DoubleData.Select(d => (float)d)];
        if (shape.Any(d => d < 0) || PretrainedImport.ShapeSize(shape) != data.LongLength)
            throw new InvalidDataException($"{description}: layer '{layer.Name}' blob {index} declares shape [{string.Join(", ", shape)}] but holds {data.LongLength} values");
        return (data, shape);
    }

    private static int Square(IReadOnlyList<uint> values, uint? h, uint? w, int missing, Layer layer, string what, string description)
    {
        if (h is not null || w is not null)
        {
            if (h != w)
                throw new InvalidDataException($"{description}: layer '{layer.Name}' has a non-square {what} ({h}x{w})");
            return (int)h!.Value;
        }
        if (values.Count == 0)
            return missing;
        if (values.Distinct().Count() != 1)
            throw new InvalidDataException($"{description}: layer '{layer.Name}' has a non-square {what} ({string.Join("x", values)})");
        return (int)values[0];
    }

    private static LrnSettings Lrn(IReadOnlyList<Layer> layers, string description)
    {
        var lrns = layers.Where(l => l.Type == "LRN").ToList();
        if (lrns.Count != 2)
            throw new InvalidDataException($"{description} has {lrns.Count} LRN layers; the 2012 network has 2 (after conv1 and conv2)");
        var settings = lrns.Select(l =>
        {
            LRNParameter p = l.Lrn ?? new LRNParameter();
            if (p.NormRegion != LRNParameter.Types.NormRegion.AcrossChannels)
                throw new InvalidDataException($"{description}: LRN '{l.Name}' normalises within channels; the 2012 network normalises across them");
            // Caffe's alpha is divided by local_size, as LrnSettings' is; Caffe's LRN spans all of a blob's channels.
            return new LrnSettings((int)p.LocalSize, PretrainedImport.Decimal(p.Alpha), PretrainedImport.Decimal(p.Beta), PretrainedImport.Decimal(p.K), AcrossTowers: true);
        }).Distinct().ToList();
        if (settings.Count != 1)
            throw new InvalidDataException($"{description}: its two LRN layers differ ({string.Join("; ", settings)}); this network has one setting for both");
        if (settings[0].Error() is { } error)
            throw new InvalidDataException($"{description}: {error}");
        return settings[0];
    }

    /// <summary>Caffe rounds pooled sides up; every pooling must be the paper's 3x3 max-pool with stride 2 and no padding.</summary>
    private static bool CeilPooling(IReadOnlyList<Layer> layers, string description)
    {
        var pools = layers.Where(l => l.Type == "Pooling").ToList();
        if (pools.Count != 3)
            throw new InvalidDataException($"{description} has {pools.Count} pooling layers; the 2012 network has 3");
        foreach (Layer pool in pools)
        {
            PoolingParameter p = pool.Pooling ?? new PoolingParameter();
            if (p.Pool != PoolingParameter.Types.PoolMethod.Max || p.KernelSize != 3 || p.Stride != 2 || p.Pad != 0 || p.GlobalPooling)
                throw new InvalidDataException($"{description}: pooling '{pool.Name}' is {p.Pool} {p.KernelSize}/{p.Stride} pad {p.Pad}; the 2012 network max-pools 3/2 without padding");
        }
        return true;
    }

    private static int InputSize(NetParameter net, IReadOnlyList<Layer> layers, string description)
    {
        long[]? dims = net.InputShape.Count > 0 ? [.. net.InputShape[0].Dim]
            : net.InputDim.Count >= 4 ? [.. net.InputDim.Take(4).Select(d => (long)d)]
            : layers.FirstOrDefault(l => l.Input is { Shape.Count: > 0 })?.Input!.Shape[0].Dim.ToArray();
        if (dims is { Length: 4 })
        {
            if (dims[1] != 3 || dims[2] != dims[3])
                throw new InvalidDataException($"{description}: its input is [{string.Join(", ", dims)}]; the network takes square 3-channel images");
            return (int)Math.Min(dims[2], int.MaxValue);
        }
        uint crop = layers.Select(l => l.Transform).OfType<TransformationParameter>().Select(t => t.CropSize).FirstOrDefault(c => c > 0);
        return crop > 0 ? (int)Math.Min(crop, int.MaxValue) : DefaultInputSize;
    }

    /// <summary>A data layer's <c>mean_value</c> (BGR) when it gives three; else Caffe's ILSVRC-2012 means.</summary>
    private static float[] Mean(IReadOnlyList<Layer> layers)
    {
        float[]? bgr = layers.Select(l => l.Transform).OfType<TransformationParameter>().Select(t => t.MeanValue.ToArray()).FirstOrDefault(m => m.Length == 3);
        return bgr is null ? [.. PretrainedImport.CaffeMeanRgb] : [bgr[2], bgr[1], bgr[0]];
    }
}
