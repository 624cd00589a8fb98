using System.Security.Cryptography;
using AlexNet.Model.Network;
using static TorchSharp.torch;

namespace AlexNet.Model.Packaging;

/// <summary>A weights file whose bytes do not match the SHA-256 its manifest records.</summary>
public sealed class ModelIntegrityException(string message) : IOException(message);

/// <summary>
/// A trained model: <c>manifest.json</c> plus <c>weights.bin</c>, whose SHA-256 the manifest records. The same
/// pair lives in a folder (<c>models/&lt;version&gt;/</c>) or in blob storage.
/// </summary>
public sealed class ModelPackage
{
    public const string WeightsFileName = "weights.bin";
    public const string ManifestFileName = "manifest.json";

    private readonly byte[] weights;

    private ModelPackage(ModelManifest manifest, byte[] weights)
    {
        Manifest = manifest;
        this.weights = weights;
    }

    public ModelManifest Manifest { get; }

    public ReadOnlyMemory<byte> WeightsBytes => weights;

    public byte[] ManifestBytes => Manifest.ToJson();

    /// <summary>Packages a network's current weights; the manifest's hash and size fields are filled in here.</summary>
    public static ModelPackage Create(ModelManifest manifest, AlexNetNetwork network)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(network);
        var tensors = network.ExportWeights();
        try
        {
            byte[] bytes = WeightsFormat.Serialize(tensors);
            var complete = manifest with
            {
                WeightsSha256 = Sha256(bytes),
                WeightsBytes = bytes.LongLength,
                Layout = network.Options.Layout,
                InputSize = network.Options.InputSize,
            };
            complete.Validate();
            return new ModelPackage(complete, bytes);
        }
        finally
        {
            foreach (Tensor tensor in tensors.Values)
                tensor.Dispose();
        }
    }

    /// <summary>Loads a package, refusing weights whose SHA-256 differs from the manifest's.</summary>
    public static ModelPackage Load(ReadOnlySpan<byte> manifestJson, byte[] weightsBytes)
    {
        ArgumentNullException.ThrowIfNull(weightsBytes);
        ModelManifest manifest = ModelManifest.FromJson(manifestJson);
        string actual = Sha256(weightsBytes);
        if (!string.Equals(actual, manifest.WeightsSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelIntegrityException(
                $"model {manifest.Version}: weights SHA-256 is {actual}, the manifest says {manifest.WeightsSha256}; refusing to load");
        }
        return new ModelPackage(manifest, weightsBytes);
    }

    public static ModelPackage LoadDirectory(string directory)
    {
        string manifestPath = Path.Combine(directory, ManifestFileName);
        if (!File.Exists(manifestPath))
            throw new FileNotFoundException($"no {ManifestFileName} in {directory}", manifestPath);
        byte[] manifestJson = File.ReadAllBytes(manifestPath);
        ModelManifest manifest = ModelManifest.FromJson(manifestJson);
        string weightsPath = Path.Combine(directory, manifest.WeightsFile);
        if (!File.Exists(weightsPath))
            throw new FileNotFoundException($"no {manifest.WeightsFile} in {directory}", weightsPath);
        return Load(manifestJson, File.ReadAllBytes(weightsPath));
    }

    /// <summary>Writes weights, then the manifest, each through a temporary file and a rename.</summary>
    public void SaveDirectory(string directory)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.Write(Path.Combine(directory, Manifest.WeightsFile), weights);
        AtomicFile.Write(Path.Combine(directory, ManifestFileName), ManifestBytes);
    }

    /// <summary>Builds the network in the layout and on the devices asked for, with this package's weights.</summary>
    public AlexNetNetwork CreateNetwork(AlexNetLayout? layout = null, IReadOnlyList<Device>? devices = null)
    {
        AlexNetNetwork network = AlexNetFactory.Create(Manifest.NetworkOptions(layout), devices);
        var tensors = WeightsFormat.Deserialize(weights);
        try
        {
            network.ImportWeights(tensors);
        }
        catch
        {
            network.Dispose();
            throw;
        }
        finally
        {
            foreach (Tensor tensor in tensors.Values)
                tensor.Dispose();
        }
        return network;
    }

    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
