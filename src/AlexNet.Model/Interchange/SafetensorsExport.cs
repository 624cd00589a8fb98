using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using static TorchSharp.torch;

namespace AlexNet.Model.Interchange;

/// <summary>
/// A package's weights as a standalone safetensors file: the grouped network's canonical names (a PyTorch
/// <c>state_dict</c> of the same network loads it), with the classes and preprocessing in <c>__metadata__</c>.
/// </summary>
public static class SafetensorsExport
{
    /// <summary>Builds the package's network (which checks every tensor's shape against the manifest) and writes its weights.</summary>
    public static byte[] Export(ModelPackage package)
    {
        ArgumentNullException.ThrowIfNull(package);
        using var scope = NewDisposeScope();
        using AlexNetNetwork network = package.CreateNetwork(AlexNetLayout.Grouped);
        var metadata = new Dictionary<string, string>(SafetensorsFormat.Metadata);
        foreach (var (key, value) in ExportMetadata.For(package.Manifest))
            metadata[key] = value;
        return SafetensorsFormat.Serialize(network.ExportWeights(), metadata);
    }
}
