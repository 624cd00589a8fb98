using System.Security.Cryptography;

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

    /// <summary>
    /// Packages serialized weights (<c>WeightsFormat</c>); the manifest's hash and size fields are filled in here.
    /// <c>ModelPackage.Create(manifest, network)</c> in AlexNet.Model packages a live network.
    /// </summary>
    public static ModelPackage FromWeights(ModelManifest manifest, byte[] weightsBytes)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(weightsBytes);
        var complete = manifest with { WeightsSha256 = Sha256(weightsBytes), WeightsBytes = weightsBytes.LongLength };
        complete.Validate();
        return new ModelPackage(complete, weightsBytes);
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

    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
