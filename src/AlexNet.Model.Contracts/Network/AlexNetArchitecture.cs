namespace AlexNet.Model.Network;

/// <summary>One row of the architecture table: what a layer does, its output and its parameters.</summary>
public sealed record LayerSpec(
    string Name,
    string Operation,
    IReadOnlyList<int> OutputShape,
    long Parameters,
    string Placement,
    string ConnectsTo);

/// <summary>
/// The network of the 2012 paper computed from its hyper-parameters, without building tensors: the layer table
/// of <c>alexnet info</c>, the FC6 fan-in for any input size, and memory estimates.
/// </summary>
public static class AlexNetArchitecture
{
    public const int Conv1Kernels = 96;
    public const int Conv2Kernels = 256;
    public const int Conv3Kernels = 384;
    public const int Conv4Kernels = 384;
    public const int Conv5Kernels = 256;
    public const int HiddenUnits = 4096;
    public const int Conv1Padding = 2;
    public const int Towers = 2;

    /// <summary>Side of the conv1 feature map.</summary>
    public static int Conv1Size(int inputSize, int padding = Conv1Padding) => (inputSize + 2 * padding - 11) / 4 + 1;

    /// <summary>Side after an overlapping 3/2 max-pool, rounded down, or up as Caffe rounds (<paramref name="ceil"/>).</summary>
    public static int PoolSize(int size, bool ceil = false) => size < 3 ? 0 : (ceil ? (size - 3 + 1) / 2 : (size - 3) / 2) + 1;

    /// <summary>Side of the pool5 map, whose flattened 256 channels feed FC6.</summary>
    public static int Pool5Size(int inputSize) => Pool5Size(new AlexNetOptions { InputSize = inputSize });

    public static int Pool5Size(AlexNetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        bool ceil = options.CeilPooling;
        return PoolSize(PoolSize(PoolSize(Conv1Size(options.InputSize, options.Conv1Padding), ceil), ceil), ceil);
    }

    public static int Fc6Inputs(int inputSize) => Fc6Inputs(new AlexNetOptions { InputSize = inputSize });

    public static int Fc6Inputs(AlexNetOptions options) => Conv5Kernels * Pool5Size(options) * Pool5Size(options);

    public static IReadOnlyList<LayerSpec> Layers(AlexNetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int s0 = options.InputSize;
        int s1 = Conv1Size(s0, options.Conv1Padding);
        int p1 = PoolSize(s1, options.CeilPooling);
        int p2 = PoolSize(p1, options.CeilPooling);
        int p5 = PoolSize(p2, options.CeilPooling);
        string pool = options.CeilPooling ? "max-pool 3/2 ceil" : "max-pool 3/2";
        string lrn = options.Lrn == LrnSettings.Paper ? "LRN" : $"LRN k={options.Lrn.K:G} alpha={options.Lrn.Alpha:G}/{options.Lrn.Size}{(options.Lrn.AcrossTowers ? " across towers" : "")}";
        bool towers = options.Layout == AlexNetLayout.TwoTower;
        string Split(int total) => towers ? $"2 x {total / 2}" : $"{total} (groups 2)";
        string Dense(int total) => towers ? $"2 x {total / 2}" : $"{total}";

        return
        [
            new("input", options.InputChannelOrder == ChannelOrder.Bgr ? "image crop, mean subtracted, RGB to BGR" : "image crop, mean subtracted", [3, s0, s0], 0, "-", "-"),
            new("conv1", $"conv 11x11/4 pad {options.Conv1Padding}, ReLU, {lrn}, {pool}", [Conv1Kernels, p1, p1],
                Conv(3, Conv1Kernels, 11, 1), Dense(Conv1Kernels), "input"),
            new("conv2", $"conv 5x5 pad 2, ReLU, {lrn}, {pool}", [Conv2Kernels, p2, p2],
                Conv(Conv1Kernels, Conv2Kernels, 5, 2), Split(Conv2Kernels), "own tower"),
            new("conv3", "conv 3x3 pad 1, ReLU", [Conv3Kernels, p2, p2],
                Conv(Conv2Kernels, Conv3Kernels, 3, 1), Dense(Conv3Kernels), "both towers"),
            new("conv4", "conv 3x3 pad 1, ReLU", [Conv4Kernels, p2, p2],
                Conv(Conv3Kernels, Conv4Kernels, 3, 2), Split(Conv4Kernels), "own tower"),
            new("conv5", $"conv 3x3 pad 1, ReLU, {pool}", [Conv5Kernels, p5, p5],
                Conv(Conv4Kernels, Conv5Kernels, 3, 2), Split(Conv5Kernels), "own tower"),
            new("fc6", "fully connected, ReLU, dropout", [HiddenUnits],
                Linear(Fc6Inputs(options), HiddenUnits), Dense(HiddenUnits), "both towers"),
            new("fc7", "fully connected, ReLU, dropout", [HiddenUnits],
                Linear(HiddenUnits, HiddenUnits), Dense(HiddenUnits), "both towers"),
            new("fc8", "fully connected, softmax", [options.Classes],
                Linear(HiddenUnits, options.Classes), towers ? "tower 0" : "-", "both towers"),
        ];
    }

    public static long ParameterCount(AlexNetOptions options) => Layers(options).Sum(layer => layer.Parameters);

    /// <summary>Bytes of fp32 weights.</summary>
    public static long WeightBytes(AlexNetOptions options) => ParameterCount(options) * sizeof(float);

    /// <summary>
    /// Rough fp32 bytes of activations one image keeps alive in a forward pass (each layer's output once, plus
    /// the pre-pooling maps of conv1, conv2 and conv5).
    /// </summary>
    public static long ActivationBytesPerImage(AlexNetOptions options)
    {
        int s1 = Conv1Size(options.InputSize, options.Conv1Padding);
        int p1 = PoolSize(s1, options.CeilPooling);
        int p2 = PoolSize(p1, options.CeilPooling);
        long elements =
            3L * options.InputSize * options.InputSize
            + 2L * Conv1Kernels * s1 * s1
            + 2L * Conv2Kernels * p1 * p1
            + (long)(Conv3Kernels + Conv4Kernels + Conv5Kernels) * p2 * p2
            + 2L * HiddenUnits + options.Classes;
        return elements * sizeof(float);
    }

    /// <summary>
    /// Rough fp32 bytes one SGD step needs: weights, gradients and momentum, plus activations and their
    /// gradients for the batch.
    /// </summary>
    public static long TrainingBytes(AlexNetOptions options, int batchSize) =>
        3 * WeightBytes(options) + 2L * batchSize * ActivationBytesPerImage(options);

    private static long Conv(int inputs, int outputs, int kernel, int groups) =>
        (long)outputs * (inputs / groups) * kernel * kernel + outputs;

    private static long Linear(int inputs, int outputs) => (long)inputs * outputs + outputs;
}
