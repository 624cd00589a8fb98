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
        if (WeightStd <= 0)
            throw new ArgumentOutOfRangeException(nameof(WeightStd), WeightStd, "weight std must be positive");
    }
}
