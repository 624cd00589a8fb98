using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using static TorchSharp.torch;

namespace AlexNet.Model.Training;

/// <summary>
/// Starting a network from a trained model package instead of random weights. The features below fc8 were learned on
/// the parent's inputs, normalised by the parent's mean and std, at the parent's input size: so a fine-tuned network
/// keeps all three, and only its classes (fc8) may change.
/// </summary>
public static class FineTuning
{
    /// <summary>The layer whose rows are the classes: drawn afresh when the class lists differ.</summary>
    public const string HeadLayer = "fc8";

    /// <summary>A package folder to fine-tune from; a missing, unreadable or tampered one is refused in one line.</summary>
    public static ModelPackage Load(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"cannot fine-tune from {folder}: no such folder");
        try
        {
            return ModelPackage.LoadDirectory(folder);
        }
        catch (Exception error) when (error is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"cannot fine-tune from {folder}: {error.Message}", error);
        }
    }

    /// <summary>Refuses options a network started from <paramref name="parent"/> cannot train with.</summary>
    public static void RequireCompatible(ModelPackage parent, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentNullException.ThrowIfNull(options);
        ModelManifest manifest = parent.Manifest;
        if (options.InputSize != manifest.InputSize)
            throw new ArgumentException(
                $"input size {options.InputSize} differs from model {manifest.Version}'s {manifest.InputSize}: a fine-tuned network keeps its parent's input size");
        if (options.ParentVersion is { } declared && !string.Equals(declared, manifest.Version, StringComparison.Ordinal))
            throw new ArgumentException($"parent version {declared} is not the version of the model fine-tuned from, {manifest.Version}");
    }

    /// <summary>
    /// The network to train: the options' own, with the parent's computing settings (conv1 padding, pooling, LRN,
    /// channel order) when fine-tuning, so that weights imported from Caffe keep computing what they learned to.
    /// </summary>
    public static AlexNetOptions NetworkOptions(ModelPackage? parent, TrainingOptions options, int classes)
    {
        ArgumentNullException.ThrowIfNull(options);
        AlexNetOptions own = options.NetworkOptions(classes);
        if (parent is null)
            return own;
        AlexNetOptions inherited = parent.Manifest.NetworkOptions();
        return own with
        {
            Conv1Padding = inherited.Conv1Padding,
            CeilPooling = inherited.CeilPooling,
            Lrn = inherited.Lrn,
            InputChannelOrder = inherited.InputChannelOrder,
        };
    }

    /// <summary>
    /// Copies the parent's weights into <paramref name="network"/>, freshly initialised for <paramref name="classes"/>:
    /// every layer when the class lists are the same (same names, same order), otherwise every layer but fc8, which keeps
    /// its fresh draw (a class's row means nothing for another class list).
    /// </summary>
    public static FineTuneLineage CopyWeights(ModelPackage parent, AlexNetNetwork network, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(classes);
        ModelManifest manifest = parent.Manifest;
        if (network.Options.InputSize != manifest.InputSize)
            throw new ArgumentException($"the network's input size {network.Options.InputSize} differs from model {manifest.Version}'s {manifest.InputSize}");
        if (network.Options.Classes != classes.Count)
            throw new ArgumentException($"the network has {network.Options.Classes} outputs for {classes.Count} classes");

        bool sameClasses = manifest.Classes.SequenceEqual(classes, StringComparer.Ordinal);
        Dictionary<string, Tensor> weights = WeightsFormat.Deserialize(parent.WeightsBytes.Span);
        Dictionary<string, Tensor>? fresh = null;
        try
        {
            if (!sameClasses)
            {
                fresh = network.ExportWeights();
                foreach (string name in new[] { $"{HeadLayer}.weight", $"{HeadLayer}.bias" })
                {
                    if (weights.Remove(name, out Tensor? inherited))
                        inherited.Dispose();
                    fresh.Remove(name, out Tensor? drawn);
                    weights[name] = drawn!;
                }
            }
            network.ImportWeights(weights);
        }
        finally
        {
            foreach (Tensor tensor in weights.Values.Concat(fresh?.Values ?? Enumerable.Empty<Tensor>()))
                tensor.Dispose();
        }
        return new FineTuneLineage { Version = manifest.Version, WeightsSha256 = manifest.WeightsSha256, HeadReinitialized = !sameClasses };
    }
}
