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

    /// <summary>SHA-256 of the parent's <c>weights.bin</c>: the exact weights the network started from.</summary>
    public required string WeightsSha256 { get; init; }

    /// <summary>True when the classes differ from the parent's and fc8 started afresh; false when every layer was copied.</summary>
    public required bool HeadReinitialized { get; init; }
}

/// <summary>
/// Everything needed to use a trained network besides its weights: classes, input geometry, preprocessing
/// constants, lineage and metrics. Stored as <c>manifest.json</c> next to <c>weights.bin</c>.
/// </summary>
public sealed record ModelManifest
{
    public const int CurrentFormat = 1;

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

    public string WeightsFile { get; init; } = ModelPackage.WeightsFileName;
    public required string WeightsSha256 { get; init; }
    public long WeightsBytes { get; init; }
    public string? TrainingDataFingerprint { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public string? CodeVersion { get; init; }
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    public AlexNetOptions NetworkOptions(AlexNetLayout? layout = null) => new()
    {
        Classes = Classes.Count,
        InputSize = InputSize,
        Layout = layout ?? Layout,
    };

    public void Validate()
    {
        if (Format != CurrentFormat)
            throw new InvalidDataException($"manifest format {Format} is not supported (expected {CurrentFormat})");
        if (string.IsNullOrWhiteSpace(Version))
            throw new InvalidDataException("manifest has no version");
        if (Classes is null || Classes.Count < 2)
            throw new InvalidDataException("manifest needs at least 2 classes");
        if (InputSize < AlexNetOptions.MinInputSize || BaseSize < InputSize)
            throw new InvalidDataException($"manifest input size {InputSize} / base size {BaseSize} are inconsistent");
        if (Mean is not { Length: 3 })
            throw new InvalidDataException("manifest mean must have 3 channels");
        if (Std is not null && (Std.Length != 3 || Std.Any(s => !float.IsFinite(s) || s <= 0)))
            throw new InvalidDataException("manifest std must have 3 positive channels");
        if (string.IsNullOrWhiteSpace(WeightsSha256))
            throw new InvalidDataException("manifest has no weights SHA-256");
        if (FineTunedFrom is not null && (string.IsNullOrWhiteSpace(FineTunedFrom.Version) || string.IsNullOrWhiteSpace(FineTunedFrom.WeightsSha256)))
            throw new InvalidDataException("manifest's fineTunedFrom needs the parent's version and weights SHA-256");
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, ModelJsonContext.Default.ModelManifest);

    public static ModelManifest FromJson(ReadOnlySpan<byte> json)
    {
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

/// <summary>Points at the promoted model version (<c>models/current.json</c>).</summary>
public sealed record CurrentModelPointer(string Version, string? Previous, DateTimeOffset PromotedAt, string? Reason);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ModelManifest))]
[JsonSerializable(typeof(CurrentModelPointer))]
public sealed partial class ModelJsonContext : JsonSerializerContext;
