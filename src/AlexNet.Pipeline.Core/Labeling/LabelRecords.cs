using System.Text.Json;
using System.Text.Json.Serialization;
using AlexNet.Pipeline.Contracts;

namespace AlexNet.Pipeline.Labeling;

public static class LabelStatus
{
    public const string Labeled = "labeled";
    public const string Rejected = "rejected";
}

public sealed record ImageIdentity(string Container, string Path, string ETag, string Sha256, long Size)
{
    /// <summary>The identity of these bytes, read from this path in this version.</summary>
    public static ImageIdentity Of(string container, string path, string etag, ReadOnlySpan<byte> bytes) =>
        new(container, path, etag, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), bytes.Length);
}

public sealed record ModelIdentity(string Version, string WeightsSha256);

public sealed record LabelScore(string Label, int Index, float Probability);

/// <summary>The labels of one image by one model version: <c>labels/&lt;batch&gt;/&lt;path&gt;.json</c>.</summary>
public sealed record LabelRecord(
    string Batch,
    ImageIdentity Image,
    ModelIdentity Model,
    string CropMode,
    IReadOnlyList<LabelScore> Top5,
    DateTimeOffset LabeledAt,
    string Status = LabelStatus.Labeled)
{
    /// <summary>Same image content and same model: labeling again would only repeat this record.</summary>
    public bool Covers(string sha256, string modelVersion) =>
        string.Equals(Image.Sha256, sha256, StringComparison.Ordinal) && string.Equals(Model.Version, modelVersion, StringComparison.Ordinal);
}

/// <summary>Why one input was not labeled: <c>rejected/&lt;batch&gt;/&lt;path&gt;.json</c>.</summary>
public sealed record RejectedRecord(
    string Batch,
    ImageIdentity Image,
    string Code,
    string Reason,
    DateTimeOffset RejectedAt,
    string Status = LabelStatus.Rejected);

/// <summary>Totals of a batch: <c>labels/&lt;batch&gt;/summary.json</c>.</summary>
public sealed record BatchSummary(
    string Batch,
    int Images,
    int Labeled,
    int Rejected,
    int NeedsReview,
    IReadOnlyDictionary<string, int> Models,
    IReadOnlyDictionary<string, int> Top1Distribution,
    IReadOnlyList<int> ConfidenceHistogram,
    IReadOnlyDictionary<string, int> RejectionCodes,
    double MinConfidence,
    DateTimeOffset? FirstLabeledAt,
    DateTimeOffset? LastLabeledAt,
    DateTimeOffset WrittenAt,
    LabelRunStatistics? LastRun);

/// <summary>What one labeling run did.</summary>
public sealed record LabelRunStatistics(
    int Seen,
    int Labeled,
    int AlreadyLabeled,
    int Rejected,
    int Failed,
    double Seconds,
    double ImagesPerSecond,
    double ForwardSeconds);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LabelRecord))]
[JsonSerializable(typeof(RejectedRecord))]
[JsonSerializable(typeof(BatchSummary))]
[JsonSerializable(typeof(LabelRunStatistics))]
public sealed partial class LabelJsonContext : JsonSerializerContext;

/// <summary>Where the records of a batch live in storage (<c>../shared/DESIGN.md</c> layout).</summary>
public static class LabelPaths
{
    public const string LabelsContainer = "labels";
    public const string RejectedContainer = "rejected";
    public const string LabelsJsonl = "labels.jsonl";
    public const string LabelsCsv = "labels.csv";
    public const string Summary = "summary.json";
    public const string Review = "review.jsonl";

    private static readonly HashSet<string> BatchFiles = [LabelsJsonl, LabelsCsv, Summary, Review];

    public static string Record(string batch, string imagePath)
    {
        string name = $"{imagePath}.json";
        // An image literally named "summary" must not overwrite the batch summary.
        return BatchFiles.Contains(name) ? $"{batch}/{imagePath}.image.json" : $"{batch}/{name}";
    }

    /// <summary>A blob name of the upload layout <c>&lt;batch&gt;/&lt;path&gt;</c> as the path within its batch.</summary>
    public static string RelativeToBatch(string batch, string name) =>
        name.StartsWith(batch + "/", StringComparison.Ordinal) ? name[(batch.Length + 1)..] : name;

    public static string BatchFile(string batch, string file) => $"{batch}/{file}";

    public static bool IsBatchFile(string batch, string blobName) =>
        blobName.StartsWith(batch + "/", StringComparison.Ordinal) && BatchFiles.Contains(blobName[(batch.Length + 1)..]);

    /// <summary>A batch id is one path segment of letters, digits, '-', '_' or '.', so it is safe as a prefix and an instance id.</summary>
    public static void ValidateBatch(string batch) => SafeId.Validate("batch id", batch, nameof(batch));
}
