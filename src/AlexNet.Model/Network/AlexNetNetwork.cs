using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlexNet.Model.Network;

/// <summary>
/// AlexNet in either layout. Both expose their weights under one canonical set of names and shapes (those of
/// the grouped layout: conv1.weight .. fc8.bias), so a model package loads into either layout.
/// </summary>
public abstract class AlexNetNetwork : nn.Module<Tensor, Tensor>
{
    public static readonly IReadOnlyList<string> LayerNames = ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"];

    /// <summary>Layers whose bias starts at <see cref="AlexNetOptions.PositiveBias"/>; the others start at 0.</summary>
    public static readonly IReadOnlySet<string> PositiveBiasLayers = new HashSet<string>(["conv2", "conv4", "conv5", "fc6", "fc7"]);

    protected AlexNetNetwork(string name, AlexNetOptions options) : base(name)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    public AlexNetOptions Options { get; }

    /// <summary>Where inputs should be placed to avoid a copy (tower 0's device in the two-tower layout).</summary>
    public abstract Device InputDevice { get; }

    /// <summary>Canonical weights as new CPU tensors in a fresh dictionary; the caller disposes them.</summary>
    public abstract Dictionary<string, Tensor> ExportWeights();

    /// <summary>Copies canonical weights into this network, whatever its layout and devices.</summary>
    public abstract void ImportWeights(IReadOnlyDictionary<string, Tensor> weights);

    /// <summary>
    /// Gaussian weights and biases as <see cref="AlexNetOptions.Init"/> says. With <see cref="AlexNetOptions.Seed"/>
    /// the draw comes from a generator of its own, so the same seed gives the same network whatever else uses torch's
    /// global generator.
    /// </summary>
    public void Initialize()
    {
        using var noGrad = torch.no_grad();
        using var generator = Options.Seed is { } seed ? new torch.Generator((ulong)seed) : null;
        foreach (var (layer, weight, bias) in LayerParameters())
        {
            using (var sample = torch.randn(weight.shape, generator: generator))
                weight.copy_(sample.mul_(WeightStd(layer, weight.shape)));
            nn.init.constant_(bias, BiasOf(layer));
        }
    }

    /// <summary>
    /// The standard deviation of a layer's initial weights. Paper: one value for all. Variance scaling (He et al.,
    /// 2015): sqrt(2 / fan-in) before a ReLU, sqrt(1 / fan-in) for fc8, so the signal keeps its scale through all
    /// eight layers instead of shrinking by about 0.01 * sqrt(fan-in) at each (docs/training.md). It assumes unit-scale
    /// inputs: the trainer divides them by the training set's per-channel standard deviation
    /// (<see cref="Training.TrainingOptions.NormalizeInput"/>).
    /// </summary>
    private double WeightStd(string layer, long[] shape)
    {
        if (Options.Init == WeightInit.Paper)
            return Options.WeightStd;
        long fanIn = 1;
        for (int i = 1; i < shape.Length; i++)
            fanIn *= shape[i];
        return Math.Sqrt((layer == "fc8" ? 1.0 : 2.0) / fanIn);
    }

    private double BiasOf(string layer) =>
        Options.Init == WeightInit.Paper && PositiveBiasLayers.Contains(layer) ? Options.PositiveBias : 0.0;

    /// <summary>Every (canonical layer name, weight, bias), one entry per tower piece.</summary>
    protected abstract IEnumerable<(string Layer, Parameter Weight, Parameter Bias)> LayerParameters();

    protected static Conv2d Conv(long inputs, long outputs, long kernel, long stride, long padding, long groups) =>
        nn.Conv2d(inputs, outputs, kernel, stride: stride, padding: padding, groups: groups);

    protected static void RequireWeight(IReadOnlyDictionary<string, Tensor> weights, string name, long[] shape)
    {
        if (!weights.TryGetValue(name, out Tensor? tensor))
            throw new InvalidDataException($"weights lack '{name}'");
        if (!tensor.shape.SequenceEqual(shape))
            throw new InvalidDataException(
                $"'{name}' has shape [{string.Join(", ", tensor.shape)}], the network expects [{string.Join(", ", shape)}] " +
                "(different classes or input size?)");
    }
}
