using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using TorchSharp;
using static TorchSharp.torch;

namespace AlexNet.Model.Inference;

/// <summary>The k most probable classes of one image, most probable first.</summary>
public sealed record ClassScores(IReadOnlyList<int> Classes, IReadOnlyList<float> Probabilities);

/// <summary>
/// Runs a model package's network on batches of base images: mean subtraction, centre or ten crops, softmax
/// (averaged over crops), top-k. Inference mode throughout; every intermediate tensor is disposed.
/// </summary>
public sealed class Classifier : IDisposable
{
    private readonly AlexNetNetwork network;

    public Classifier(ModelPackage package, AlexNetLayout? layout = null, IReadOnlyList<Device>? devices = null)
    {
        ArgumentNullException.ThrowIfNull(package);
        Package = package;
        network = package.CreateNetwork(layout, devices);
        network.eval();
    }

    public ModelPackage Package { get; }

    public ModelManifest Manifest => Package.Manifest;

    public Device Device => network.InputDevice;

    public AlexNetOptions Options => network.Options;

    /// <summary>Class probabilities [N, classes] on the CPU for packed uint8 base images [N, side, side, 3].</summary>
    public Tensor Probabilities(Tensor packedBaseImages, CropMode mode) =>
        Probabilities(network, Manifest.Mean, Manifest.Std, Manifest.InputSize, packedBaseImages, mode);

    /// <summary>
    /// The same for any network in eval mode, e.g. one still being trained (validation): mean subtraction,
    /// crops, softmax averaged over crops, under inference mode.
    /// </summary>
    public static Tensor Probabilities(
        AlexNetNetwork network, IReadOnlyList<float> mean, IReadOnlyList<float>? std, int inputSize, Tensor packedBaseImages, CropMode mode)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(packedBaseImages);
        using var inference = torch.inference_mode();
        using var scope = NewDisposeScope();
        long count = packedBaseImages.shape[0];
        Tensor input = ImageTensors.ToNetworkInput(packedBaseImages.to(network.InputDevice), mean, std);
        Tensor probabilities = mode switch
        {
            CropMode.Center => nn.functional.softmax(network.call(ImageTensors.CenterCrop(input, inputSize)), 1),
            CropMode.TenCrop => nn.functional.softmax(network.call(ImageTensors.TenCrops(input, inputSize)), 1)
                .view(10, count, -1).mean([0]),
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown crop mode"),
        };
        return probabilities.cpu().MoveToOuterDisposeScope();
    }

    /// <summary>Top-k classes and probabilities for each image.</summary>
    public IReadOnlyList<ClassScores> Classify(Tensor packedBaseImages, CropMode mode, int k = 5)
    {
        using var scope = NewDisposeScope();
        Tensor probabilities = Probabilities(packedBaseImages, mode);
        return TopK(probabilities, k);
    }

    public static IReadOnlyList<ClassScores> TopK(Tensor probabilities, int k)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        using var scope = NewDisposeScope();
        int take = (int)Math.Min(k, probabilities.shape[1]);
        var (values, indices) = probabilities.topk(take, dim: 1, largest: true, sorted: true);
        float[] scores = values.data<float>().ToArray();
        long[] classes = indices.data<long>().ToArray();
        var results = new ClassScores[probabilities.shape[0]];
        for (int i = 0; i < results.Length; i++)
        {
            results[i] = new ClassScores(
                classes.AsSpan(i * take, take).ToArray().Select(c => (int)c).ToArray(),
                scores.AsSpan(i * take, take).ToArray());
        }
        return results;
    }

    public void Dispose() => network.Dispose();
}
