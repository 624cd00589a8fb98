using System.Security.Cryptography;
using AlexNet.Model.Network;

namespace AlexNet.Model.Packaging;

/// <summary>A weights file whose bytes do not match the SHA-256 its manifest records.</summary>
public sealed class ModelIntegrityException(string message) : IOException(message);

/// <summary>
/// A trained model: <c>manifest.json</c> plus the weights file it names (<c>weights.safetensors</c>; <c>weights.bin</c>,
/// the project's earlier format, in packages written before), whose SHA-256 the manifest records. The same pair lives
/// in a folder (<c>models/&lt;version&gt;/</c>) or in blob storage.
/// </summary>
public sealed class ModelPackage
{
    /// <summary>The weights file of packages written now: safetensors.</summary>
    public const string WeightsFileName = "weights.safetensors";

    /// <summary>The weights file of packages written before safetensors, in the project's own format; still loaded.</summary>
    public const string LegacyWeightsFileName = "weights.bin";

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
        var complete = manifest with { WeightsSha256 = Sha256(weightsBytes), WeightsBytes = weightsBytes.LongLength, ManifestSha256 = null };
        complete.Validate();
        complete = complete with { ManifestSha256 = complete.ComputeManifestSha256() };
        return new ModelPackage(complete, weightsBytes);
    }

    /// <summary>
    /// Loads a package, refusing weights of another size than the manifest's network needs, weights whose SHA-256
    /// differs from the manifest's, and a manifest changed after packaging (<see cref="ModelManifest.ManifestSha256"/>).
    /// </summary>
    public static ModelPackage Load(ReadOnlySpan<byte> manifestJson, byte[] weightsBytes)
    {
        ArgumentNullException.ThrowIfNull(weightsBytes);
        ModelManifest manifest = ModelManifest.FromJson(manifestJson);
        CheckWeightsSize(manifest, weightsBytes.LongLength);
        manifest.VerifySeal();
        string actual = Sha256(weightsBytes);
        if (!string.Equals(actual, manifest.WeightsSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelIntegrityException(
                $"model {manifest.Version}: weights SHA-256 is {actual}, the manifest says {manifest.WeightsSha256}; refusing to load");
        }
        return new ModelPackage(manifest, weightsBytes);
    }

    /// <summary>
    /// The size range of a weights file for the manifest's network: its fp32 parameters plus the names and shapes of
    /// its tensors (a safetensors header or the earlier format's names and shapes, both well under 64 KB). Known before anything large is read or built, so a manifest cannot make a loader allocate more.
    /// </summary>
    public static (long Min, long Max) ExpectedWeightsBytes(ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        long parameters = AlexNetArchitecture.WeightBytes(manifest.NetworkOptions());
        return (parameters, parameters + MaxWeightsHeaderBytes);
    }

    /// <summary>Refuses a weights size the manifest's network cannot have, or other than the manifest records.</summary>
    public static void CheckWeightsSize(ModelManifest manifest, long length)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var (min, max) = ExpectedWeightsBytes(manifest);
        if (length < min || length > max)
        {
            throw new InvalidDataException(
                $"model {manifest.Version}: {manifest.WeightsFile} is {length} bytes; a {manifest.Classes.Count}-class network at input {manifest.InputSize} needs {min}-{max}");
        }
        if (manifest.WeightsBytes > 0 && manifest.WeightsBytes != length)
            throw new ModelIntegrityException($"model {manifest.Version}: {manifest.WeightsFile} is {length} bytes, the manifest says {manifest.WeightsBytes}; refusing to load");
    }

    /// <summary>
    /// Loads a package folder. The weights file must be a plain name in the folder; neither file is read past the
    /// size it may have, so a link to a device or a huge file is refused without being read whole.
    /// </summary>
    public static ModelPackage LoadDirectory(string directory)
    {
        string manifestPath = Path.Combine(directory, ManifestFileName);
        if (!File.Exists(manifestPath))
            throw new FileNotFoundException($"no {ManifestFileName} in {directory}", manifestPath);
        byte[] manifestJson = ReadBounded(manifestPath, ModelManifest.MaxJsonBytes);
        ModelManifest manifest = ModelManifest.FromJson(manifestJson);
        string weightsPath = Path.Combine(directory, manifest.WeightsFile);
        if (!File.Exists(weightsPath))
            throw new FileNotFoundException($"no {manifest.WeightsFile} in {directory}", weightsPath);
        return Load(manifestJson, ReadBounded(weightsPath, ExpectedWeightsBytes(manifest).Max));
    }

    private const int MaxWeightsHeaderBytes = 64 * 1024;

    private static byte[] ReadBounded(string path, long maxBytes)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        if (stream.CanSeek && stream.Length > maxBytes)
            throw new InvalidDataException($"{path} is {stream.Length} bytes, more than the {maxBytes} it may have");
        using var content = new MemoryStream();
        byte[] buffer = new byte[81920];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            if (content.Length + read > maxBytes)
                throw new InvalidDataException($"{path} is longer than the {maxBytes} bytes it may have");
            content.Write(buffer, 0, read);
        }
        return content.ToArray();
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
