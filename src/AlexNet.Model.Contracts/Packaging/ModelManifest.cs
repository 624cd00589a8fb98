using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using AlexNet.Model.Network;

namespace AlexNet.Model.Packaging;

/// <summary>The PCA basis of the training set's RGB covariance, for the paper's colour augmentation.</summary>
public sealed record PcaBasis(
    [property: JsonPropertyName("eigenvalues")] float[] EigenValues,
    [property: JsonPropertyName("eigenvectors")] float[][] EigenVectors);

/// <summary>
/// Where a fine-tuned model's first weights came from: the package it started from, and whether its last layer (fc8)
/// was drawn afresh because the class lists differ. Input size, base size, mean and std are the parent's.
/// </summary>
public sealed record FineTuneLineage
{
    public required string Version { get; init; }

    /// <summary>SHA-256 of the parent's weights file: the exact weights the network started from.</summary>
    public required string WeightsSha256 { get; init; }

    /// <summary>True when the classes differ from the parent's and fc8 started afresh; false when every layer was copied.</summary>
    public required bool HeadReinitialized { get; init; }
}

/// <summary>
/// Everything needed to use a trained network besides its weights: classes, input geometry, preprocessing
/// constants, lineage and metrics. Stored as <c>manifest.json</c> next to the weights file it names.
/// </summary>
public sealed record ModelManifest
{
    public const int CurrentFormat = 1;

    /// <summary>
    /// The largest input side a manifest may declare. FC6's fan-in grows with the square of pool5's side: 512 gives
    /// a 15x15 pool5 and about 257 million weights (1 GB in fp32), twice the paper's crop; 1024 would give 1 billion
    /// (4 GB) before a single image is seen.
    /// </summary>
    public const int MaxInputSize = 512;

    /// <summary>The largest base image side: crops come from it, and the labeling engine holds a batch of them.</summary>
    public const int MaxBaseSize = 2 * MaxInputSize;

    /// <summary>Ten times ImageNet's classes; fc8 stays under 170 MB.</summary>
    public const int MaxClasses = 10_000;

    public const int MaxClassNameLength = 128;

    public const int MaxVersionLength = 64;

    /// <summary>The largest <c>manifest.json</c> read: 10,000 class names of 128 characters fit with room to spare.</summary>
    public const int MaxJsonBytes = 4 * 1024 * 1024;

    public int Format { get; init; } = CurrentFormat;
    public required string Version { get; init; }
    public string? ParentVersion { get; init; }

    /// <summary>The package whose weights training started from; null for a network trained from scratch.</summary>
    public FineTuneLineage? FineTunedFrom { get; init; }

    public required IReadOnlyList<string> Classes { get; init; }

    /// <summary>Side of the square crop the network takes.</summary>
    public required int InputSize { get; init; }

    /// <summary>Side of the square base image (shorter side rescaled to it, then centre-cropped) that crops come from.</summary>
    public required int BaseSize { get; init; }

    public AlexNetLayout Layout { get; init; } = AlexNetLayout.Grouped;

    /// <summary>Per-channel RGB mean of the training set, on the 0-255 pixel scale, subtracted from every input.</summary>
    public required float[] Mean { get; init; }

    /// <summary>
    /// Per-channel standard deviation (0-255 scale) that every input is divided by after the mean is subtracted; absent
    /// (no division) in models of the paper's recipe and of versions before it was added.
    /// </summary>
    public float[]? Std { get; init; }

    public PcaBasis? Pca { get; init; }

    /// <summary>
    /// conv1's zero padding when it is not the project's 2: 0 in models imported from Caffe, whose 227 crops conv1 reads
    /// unpadded. Absent in the project's own models. This and the three fields below say how a network computes where
    /// it differs from the paper's layer table; every one is sealed, and absent means the project's default.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Conv1Padding { get; init; }

    /// <summary>True when max-pooling rounds its output side up, as Caffe does; absent (rounded down) otherwise.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? CeilPooling { get; init; }

    /// <summary>LRN constants when they are not the paper's (<see cref="LrnSettings.Paper"/>): Caffe's k is 1 and its LRN spans both towers.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public LrnSettings? Lrn { get; init; }

    /// <summary>
    /// <c>Bgr</c> when conv1 was trained on blue-green-red input (Caffe): the network reverses its input's channels.
    /// Absent for RGB. <see cref="Mean"/> and <see cref="Std"/> are listed in RGB order either way.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ChannelOrder? ChannelOrder { get; init; }

    /// <summary>
    /// The weights file in the package folder: <c>weights.safetensors</c> in packages written now, <c>weights.bin</c> in
    /// earlier ones (the loader tells the formats apart by their first bytes).
    /// </summary>
    public string WeightsFile { get; init; } = ModelPackage.WeightsFileName;
    public required string WeightsSha256 { get; init; }
    public long WeightsBytes { get; init; }
    public string? TrainingDataFingerprint { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public string? CodeVersion { get; init; }
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    /// <summary>
    /// SHA-256 over every field that steers labeling or records lineage (<see cref="ComputeManifestSha256"/>), and so,
    /// through <see cref="WeightsSha256"/>, over the weights too: renamed, reordered or swapped classes, another input
    /// size or mean no longer load. Null in packages written before it was added: those load, and their loaders warn.
    /// </summary>
    public string? ManifestSha256 { get; init; }

    /// <summary>Whether the manifest carries <see cref="ManifestSha256"/> (packages written before it do not).</summary>
    [JsonIgnore]
    public bool IsSealed => ManifestSha256 is not null;

    public AlexNetOptions NetworkOptions(AlexNetLayout? layout = null) => new()
    {
        Classes = Classes.Count,
        InputSize = InputSize,
        Layout = layout ?? Layout,
        Conv1Padding = Conv1Padding ?? AlexNetArchitecture.Conv1Padding,
        CeilPooling = CeilPooling ?? false,
        Lrn = Lrn ?? LrnSettings.Paper,
        InputChannelOrder = ChannelOrder ?? Network.ChannelOrder.Rgb,
    };

    /// <summary>
    /// This manifest with the network's computing settings (<see cref="Conv1Padding"/>, <see cref="CeilPooling"/>,
    /// <see cref="Lrn"/>, <see cref="ChannelOrder"/>) taken from <paramref name="options"/>: absent where they are the
    /// project's defaults, so a package of the project's own network keeps the manifest (and hash) it always had.
    /// </summary>
    public ModelManifest WithSemanticsOf(AlexNetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return this with
        {
            Conv1Padding = options.Conv1Padding == AlexNetArchitecture.Conv1Padding ? null : options.Conv1Padding,
            CeilPooling = options.CeilPooling ? true : null,
            Lrn = options.Lrn == LrnSettings.Paper ? null : options.Lrn,
            ChannelOrder = options.InputChannelOrder == Network.ChannelOrder.Rgb ? null : options.InputChannelOrder,
        };
    }

    /// <summary>Refuses a manifest with any field out of its bounds; every message names the field.</summary>
    public void Validate()
    {
        if (Format != CurrentFormat)
            throw new InvalidDataException($"manifest format {Format} is not supported (expected {CurrentFormat})");
        if (!IsValidVersion(Version))
            throw new InvalidDataException($"manifest version must be 1-{MaxVersionLength} letters, digits, '-', '_' or '.'");
        if (ParentVersion is not null && !IsValidVersion(ParentVersion))
            throw new InvalidDataException("manifest parentVersion is not a valid version");
        ValidateClasses(Classes);
        if (InputSize is < AlexNetOptions.MinInputSize or > MaxInputSize)
            throw new InvalidDataException($"manifest input size {InputSize} is outside {AlexNetOptions.MinInputSize}-{MaxInputSize}");
        if (BaseSize < InputSize || BaseSize > MaxBaseSize)
            throw new InvalidDataException($"manifest base size {BaseSize} must be between the input size {InputSize} and {MaxBaseSize}");
        if (!Enum.IsDefined(Layout))
            throw new InvalidDataException($"manifest layout {(int)Layout} is unknown");
        if (Mean is not { Length: 3 } || Mean.Any(m => !float.IsFinite(m) || m is < 0 or > 255))
            throw new InvalidDataException("manifest mean must have 3 channels in 0-255");
        if (Std is not null && (Std.Length != 3 || Std.Any(s => !float.IsFinite(s) || s is <= 0 or > 255)))
            throw new InvalidDataException("manifest std must have 3 channels in (0, 255]");
        if (Pca is not null && (Pca.EigenValues is not { Length: 3 } || Pca.EigenVectors is not { Length: 3 }
            || Pca.EigenVectors.Any(v => v is not { Length: 3 }) || Pca.EigenValues.Concat(Pca.EigenVectors.SelectMany(v => v)).Any(x => !float.IsFinite(x))))
            throw new InvalidDataException("manifest pca must hold 3 finite eigenvalues and 3 finite eigenvectors of 3");
        if (Conv1Padding is < 0 or > 5)
            throw new InvalidDataException($"manifest conv1Padding {Conv1Padding} is outside 0-5");
        if (Lrn is not null && Lrn.Error() is { } lrnError)
            throw new InvalidDataException($"manifest lrn: {lrnError}");
        if (ChannelOrder is { } order && !Enum.IsDefined(order))
            throw new InvalidDataException($"manifest channelOrder {(int)order} is unknown");
        if (AlexNetArchitecture.Pool5Size(NetworkOptions()) < 1)
            throw new InvalidDataException($"manifest input size {InputSize} with conv1 padding {Conv1Padding} leaves pool5 empty");
        if (!IsPlainFileName(WeightsFile))
            throw new InvalidDataException($"manifest weightsFile must be a plain file name in the package folder, not '{WeightsFile}'");
        if (WeightsSha256 is null || WeightsSha256.Length != 64 || !WeightsSha256.All(char.IsAsciiHexDigit))
            throw new InvalidDataException("manifest weightsSha256 must be 64 hex digits");
        if (WeightsBytes < 0)
            throw new InvalidDataException("manifest weightsBytes is negative");
        if (ManifestSha256 is not null && (ManifestSha256.Length != 64 || !ManifestSha256.All(char.IsAsciiHexDigit)))
            throw new InvalidDataException("manifest manifestSha256 must be 64 hex digits");
        if (FineTunedFrom is not null && (!IsValidVersion(FineTunedFrom.Version) || string.IsNullOrWhiteSpace(FineTunedFrom.WeightsSha256)))
            throw new InvalidDataException("manifest's fineTunedFrom needs the parent's version and weights SHA-256");
        if (Metrics is null || Metrics.Count > 256 || Metrics.Keys.Any(k => k.Length is 0 or > 64))
            throw new InvalidDataException("manifest metrics must be at most 256 entries with names of 1-64 characters");
    }

    /// <summary>Refuses a manifest whose <see cref="ManifestSha256"/> is not the hash of its fields (a hand edit, a bit flip).</summary>
    public void VerifySeal()
    {
        if (ManifestSha256 is { } recorded && !string.Equals(recorded, ComputeManifestSha256(), StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelIntegrityException(
                $"model {Version}: manifest SHA-256 is {ComputeManifestSha256()}, the manifest says {recorded}; it was changed after packaging, refusing to load");
        }
    }

    /// <summary>
    /// SHA-256 of the canonical JSON of the sealed fields: format, version, lineage, classes in order, geometry,
    /// layout, mean, std, PCA, weights file, SHA-256 and size, training-data fingerprint. Not the descriptive ones
    /// (creation time, code version, metrics). An explicit list, so a field added later does not change old hashes.
    /// </summary>
    public string ComputeManifestSha256()
    {
        var sealedFields = new SealedManifestFields(
            Format, Version, ParentVersion, FineTunedFrom, Classes, InputSize, BaseSize, Layout, Mean, Std, Pca,
            WeightsFile, WeightsSha256.ToLowerInvariant(), WeightsBytes, TrainingDataFingerprint, Conv1Padding, CeilPooling, Lrn, ChannelOrder);
        return Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(sealedFields, SealedManifestJsonContext.Default.SealedManifestFields)));
    }

    /// <summary>1-64 letters, digits, '-', '_' or '.', and not "." or "..": safe as a folder and blob name.</summary>
    public static bool IsValidVersion(string? version) => SafeId.IsValid(version, MaxVersionLength);

    /// <summary>A name in the package folder itself: no separator, no drive, not "." or "..", no device path.</summary>
    public static bool IsPlainFileName(string? name) => SafeId.IsValid(name, 64);

    private static void ValidateClasses(IReadOnlyList<string>? classes)
    {
        if (classes is null || classes.Count is < 2 or > MaxClasses)
            throw new InvalidDataException($"manifest needs 2-{MaxClasses} classes");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string name in classes)
        {
            if (string.IsNullOrWhiteSpace(name) || name.Length > MaxClassNameLength || name.Trim().Length != name.Length || name.Any(char.IsControl))
                throw new InvalidDataException($"manifest class names must be 1-{MaxClassNameLength} characters without control characters or surrounding spaces");
            if (!seen.Add(name))
                throw new InvalidDataException($"manifest lists class '{name}' twice");
        }
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, ModelJsonContext.Default.ModelManifest);

    public static ModelManifest FromJson(ReadOnlySpan<byte> json)
    {
        if (json.Length > MaxJsonBytes)
            throw new InvalidDataException($"manifest is {json.Length} bytes, more than {MaxJsonBytes}");
        ModelManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(json, ModelJsonContext.Default.ModelManifest)
                ?? throw new InvalidDataException("manifest is empty");
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"manifest is not valid JSON: {error.Message}", error);
        }
        manifest.Validate();
        return manifest;
    }
}

/// <summary>
/// The fields <see cref="ModelManifest.ManifestSha256"/> covers, in a fixed order. The network settings at the end are
/// left out when absent, so manifests without them hash as they did before the fields existed.
/// </summary>
internal sealed record SealedManifestFields(
    int Format,
    string Version,
    string? ParentVersion,
    FineTuneLineage? FineTunedFrom,
    IReadOnlyList<string> Classes,
    int InputSize,
    int BaseSize,
    AlexNetLayout Layout,
    float[] Mean,
    float[]? Std,
    PcaBasis? Pca,
    string WeightsFile,
    string WeightsSha256,
    long WeightsBytes,
    string? TrainingDataFingerprint,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Conv1Padding = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? CeilPooling = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] LrnSettings? Lrn = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ChannelOrder? ChannelOrder = null);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = false, UseStringEnumConverter = true)]
[JsonSerializable(typeof(SealedManifestFields))]
internal sealed partial class SealedManifestJsonContext : JsonSerializerContext;

/// <summary>
/// Points at the promoted model version (<c>models/current.json</c>) and pins that version's
/// <see cref="ModelManifest.ManifestSha256"/> as it was when promoted (null for a package without one, and in pointers
/// written before the pin): a version folder rewritten afterwards, hashes and all, no longer loads as current.
/// <see cref="History"/> holds the versions that were current before, most recent first (at most
/// <see cref="MaxHistory"/>); <see cref="Previous"/> is its first, the version a rollback returns to. Pointers written
/// before the history existed have none; their <see cref="Previous"/> stands in for it.
/// </summary>
public sealed record CurrentModelPointer(
    string Version, string? Previous, DateTimeOffset PromotedAt, string? Reason, string? ManifestSha256 = null, IReadOnlyList<string>? History = null)
{
    public const int MaxHistory = 32;

    /// <summary>The versions a rollback can return to, most recent first.</summary>
    public IReadOnlyList<string> Earlier() => History ?? (Previous is { } previous ? [previous] : []);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ModelManifest))]
[JsonSerializable(typeof(CurrentModelPointer))]
public sealed partial class ModelJsonContext : JsonSerializerContext;
