namespace AlexNet.Model.Network;

/// <summary>How the network is laid out on devices.</summary>
public enum AlexNetLayout
{
    /// <summary>One device; conv2, conv4 and conv5 use <c>groups: 2</c> and LRN normalises within each group.</summary>
    Grouped,

    /// <summary>The paper's two towers, one per device, crossing at conv3 and at the fully connected layers.</summary>
    TwoTower,
}

/// <summary>How the initial weights are drawn.</summary>
public enum WeightInit
{
    /// <summary>The paper: every weight N(0, <see cref="AlexNetOptions.WeightStd"/>); conv2, conv4, conv5, fc6, fc7 biases <see cref="AlexNetOptions.PositiveBias"/>, others 0.</summary>
    Paper,

    /// <summary>He et al. (2015): N(0, 2 / fan-in) before a ReLU, N(0, 1 / fan-in) for fc8; every bias 0.</summary>
    VarianceScaling,
}

/// <summary>The order of the colour channels the network's first layer was trained on.</summary>
public enum ChannelOrder
{
    /// <summary>Red, green, blue: what the decoder gives and what this project trains on.</summary>
    Rgb,

    /// <summary>Blue, green, red: Caffe's (OpenCV's) order. The network reverses the channel axis of its RGB input before conv1.</summary>
    Bgr,
}

/// <summary>
/// Local response normalisation b = a / (k + alpha / size * sum of a^2 over size neighbouring channels)^beta: alpha in
/// the convention of Caffe, ONNX and TorchSharp, which divide it by the window size (the paper's formula does not, so
/// the paper's alpha 1e-4 is 5e-4 here). <see cref="AcrossTowers"/> false normalises within each tower's half of the
/// channels, as each of the paper's GPUs did; true normalises over all of them, as Caffe's single-device net does.
/// </summary>
public sealed record LrnSettings(int Size, double Alpha, double Beta, double K, bool AcrossTowers)
{
    /// <summary>The paper's: size 5, alpha 1e-4 undivided (5e-4 here), beta 0.75, k 2, within towers.</summary>
    public static LrnSettings Paper { get; } = new(5, 5e-4, 0.75, 2.0, AcrossTowers: false);

    /// <summary>Caffe's bvlc_alexnet: local_size 5, alpha 1e-4 (divided by 5), beta 0.75, k 1, across all channels.</summary>
    public static LrnSettings Caffe { get; } = new(5, 1e-4, 0.75, 1.0, AcrossTowers: true);

    /// <summary>Why these settings cannot run, or null: an odd window of 1-15 channels, alpha in (0, 1], beta in (0, 4], k in (0, 100], all finite.</summary>
    public string? Error() =>
        Size is < 1 or > 15 || Size % 2 == 0 ? $"LRN size {Size} must be odd, 1-15"
        : !double.IsFinite(Alpha) || Alpha is <= 0 or > 1 ? $"LRN alpha {Alpha} must be in (0, 1]"
        : !double.IsFinite(Beta) || Beta is <= 0 or > 4 ? $"LRN beta {Beta} must be in (0, 4]"
        : !double.IsFinite(K) || K is <= 0 or > 100 ? $"LRN k {K} must be in (0, 100]"
        : null;
}

/// <summary>Shape and initialisation of the network. Defaults are the paper's.</summary>
public sealed record AlexNetOptions
{
    /// <summary>The smallest square input whose feature map survives the last pooling layer.</summary>
    public const int MinInputSize = 63;

    public int Classes { get; init; } = 1000;

    /// <summary>
    /// Side of the square input crop. 224 as in the paper; conv1 is padded by 2 so that (224 + 4 - 11) / 4 + 1
    /// is whole (55), which gives the same 55x55 map and parameter count as Caffe's unpadded 227 crop.
    /// </summary>
    public int InputSize { get; init; } = 224;

    public AlexNetLayout Layout { get; init; } = AlexNetLayout.Grouped;

    public double DropoutProbability { get; init; } = 0.5;

    public WeightInit Init { get; init; } = WeightInit.Paper;

    /// <summary>Standard deviation of the zero-mean Gaussian that initialises every weight (paper: 0.01).</summary>
    public double WeightStd { get; init; } = 0.01;

    /// <summary>
    /// Initial bias of conv2, conv4, conv5, fc6 and fc7 under <see cref="WeightInit.Paper"/>. The paper uses 1 to give ReLUs positive inputs early;
    /// Caffe's reference model uses 0.1 because 1 stalled there. Other biases start at 0.
    /// </summary>
    public double PositiveBias { get; init; } = 1.0;

    /// <summary>
    /// Zero padding around the input of conv1: 2 for this project's 224 crops (a 55x55 conv1 map), 0 for Caffe's
    /// unpadded 227 crops (the same 55x55 map on a grid shifted by two pixels).
    /// </summary>
    public int Conv1Padding { get; init; } = AlexNetArchitecture.Conv1Padding;

    /// <summary>Max-pooling output sides rounded up (Caffe's rule) rather than down (TorchSharp's default).</summary>
    public bool CeilPooling { get; init; }

    public LrnSettings Lrn { get; init; } = LrnSettings.Paper;

    public ChannelOrder InputChannelOrder { get; init; } = ChannelOrder.Rgb;

    /// <summary>Whether every setting that changes what the network computes has the project's default.</summary>
    public bool HasDefaultSemantics =>
        Conv1Padding == AlexNetArchitecture.Conv1Padding && !CeilPooling && Lrn == LrnSettings.Paper && InputChannelOrder == ChannelOrder.Rgb;

    /// <summary>Seed of the initial weights; null draws from torch's global generator.</summary>
    public long? Seed { get; init; }

    public void Validate()
    {
        if (Classes < 2)
            throw new ArgumentOutOfRangeException(nameof(Classes), Classes, "a classifier needs at least 2 classes");
        if (InputSize < MinInputSize)
            throw new ArgumentOutOfRangeException(nameof(InputSize), InputSize, $"input size must be at least {MinInputSize} so that pool5 is not empty");
        if (DropoutProbability is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(DropoutProbability), DropoutProbability, "dropout probability must be in [0, 1)");
        if (Conv1Padding is < 0 or > 5)
            throw new ArgumentOutOfRangeException(nameof(Conv1Padding), Conv1Padding, "conv1 padding must be 0-5 (the kernel is 11 wide)");
        if (Lrn is null || Lrn.Error() is { } lrnError)
            throw new ArgumentOutOfRangeException(nameof(Lrn), Lrn, Lrn?.Error() ?? "LRN settings are required");
        if (!Enum.IsDefined(InputChannelOrder))
            throw new ArgumentOutOfRangeException(nameof(InputChannelOrder), InputChannelOrder, "unknown channel order");
        if (AlexNetArchitecture.Pool5Size(this) < 1)
            throw new ArgumentOutOfRangeException(nameof(InputSize), InputSize, $"input size {InputSize} with conv1 padding {Conv1Padding} leaves pool5 empty");
        if (WeightStd <= 0)
            throw new ArgumentOutOfRangeException(nameof(WeightStd), WeightStd, "weight std must be positive");
    }
}
