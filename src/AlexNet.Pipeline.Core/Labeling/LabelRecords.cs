using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AlexNet.Model;
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

/// <summary>
/// What one labeling run did. <see cref="Vanished"/> counts images deleted or replaced between listing and reading
/// (nothing to label; not failures); summaries written before it existed read 0.
/// </summary>
public sealed record LabelRunStatistics(
    int Seen,
    int Labeled,
    int AlreadyLabeled,
    int Rejected,
    int Failed,
    double Seconds,
    double ImagesPerSecond,
    double ForwardSeconds,
    int Vanished = 0);

/// <summary>
/// The records that stand for one orchestration chunk's images, in the chunk request's order (the listing's name
/// order): <c>runs/&lt;batch&gt;/chunks/&lt;chunk&gt;.records.json</c>, written by the worker before the chunk's done
/// marker. The batch report is built from these, one read per chunk instead of one per record. An image that vanished
/// has neither record.
/// </summary>
/// <remarks>Persisted (a blob read by orchestrations in flight): fields are added as optional, never renamed.</remarks>
public sealed record ChunkRecords(string Batch, string Chunk, IReadOnlyList<LabelRecord> Labels, IReadOnlyList<RejectedRecord> Rejected);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LabelRecord))]
[JsonSerializable(typeof(ChunkRecords))]
[JsonSerializable(typeof(RejectedRecord))]
[JsonSerializable(typeof(BatchSummary))]
[JsonSerializable(typeof(LabelRunStatistics))]
[JsonSerializable(typeof(ReviewRecord))]
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

    /// <summary>The folder of a batch's review decisions: <c>labels/&lt;batch&gt;/reviews/&lt;path&gt;.json</c>.</summary>
    public const string ReviewsFolder = "reviews";

    /// <summary>
    /// The metadata name under which a label or rejected record's blob carries the ETag of the upload version it covers
    /// (its <c>image.etag</c>), set when the record is created, so that a listing with metadata tells which version a
    /// record covers without reading it. A record replaced in place, or written before, has none.
    /// </summary>
    public const string ImageETagMetadata = "imageetag";

    /// <summary>The longest blob name Azure Storage accepts.</summary>
    public const int MaxBlobNameLength = 1024;

    /// <summary>Azure Storage allows at most this many '/'-separated segments in a blob name.</summary>
    public const int MaxBlobNameSegments = 254;

    private const string EscapeSuffix = ".image";
    private const string HashedSuffix = ".hashed-name";

    private static readonly HashSet<string> BatchFiles = [LabelsJsonl, LabelsCsv, Summary, Review];

    /// <summary>The metadata a new record of the upload version <paramref name="imageETag"/> is created with; null without an ETag.</summary>
    public static IReadOnlyDictionary<string, string>? RecordMetadata(string? imageETag) =>
        string.IsNullOrEmpty(imageETag) ? null : new Dictionary<string, string>(StringComparer.Ordinal) { [ImageETagMetadata] = imageETag };

    /// <summary>
    /// The record name of an image: <c>&lt;batch&gt;/&lt;path&gt;.json</c>. Different paths always get different names:
    /// a path that cannot be a blob name as it stands (see <see cref="PathProblem"/>) or would make one too long is
    /// named by its SHA-256 (<c>&lt;batch&gt;/&lt;hex&gt;.hashed-name.json</c>; the record holds the path itself), and the
    /// few plain paths that could be mistaken for a batch file or a hashed name (<c>summary</c>,
    /// <c>summary.image</c>, ...) get one more <c>.image</c>.
    /// </summary>
    public static string Record(string batch, string imagePath)
    {
        ArgumentNullException.ThrowIfNull(imagePath);
        if (PathProblem(imagePath) is null)
        {
            string name = $"{batch}/{EscapeReviewsFolder(IsReserved(imagePath) ? imagePath + EscapeSuffix : imagePath)}.json";
            if (name.Length <= MaxBlobNameLength && name.Count(c => c == '/') < MaxBlobNameSegments)
                return name;
        }
        return $"{batch}/{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(imagePath)))}{HashedSuffix}.json";
    }

    /// <summary>
    /// The review decision of an image: <c>&lt;batch&gt;/reviews/&lt;name&gt;.json</c>, where <c>&lt;name&gt;</c> is the image's
    /// own record name under the batch (<see cref="Record"/>), or its hashed name when the whole would be too long.
    /// </summary>
    public static string ReviewRecord(string batch, string imagePath)
    {
        string record = Record(batch, imagePath)[(batch.Length + 1)..];
        string name = $"{batch}/{ReviewsFolder}/{record}";
        if (name.Length <= MaxBlobNameLength && name.Count(c => c == '/') < MaxBlobNameSegments)
            return name;
        return $"{batch}/{ReviewsFolder}/{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(imagePath)))}{HashedSuffix}.json";
    }

    /// <summary>Whether a blob of <c>labels/</c> is one of the batch's review decisions rather than an image's label record.</summary>
    public static bool IsReviewRecord(string batch, string blobName) =>
        blobName.StartsWith($"{batch}/{ReviewsFolder}/", StringComparison.Ordinal);

    // An image under a folder named "reviews" (or "reviews.image", ...) at the top of its batch gets one more ".image" on
    // that folder, so no label record lies in the reviews folder; the mapping stays one-to-one as in IsReserved.
    private static string EscapeReviewsFolder(string path)
    {
        int slash = path.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
            return path;
        string first = path[..slash];
        while (first.EndsWith(EscapeSuffix, StringComparison.Ordinal))
            first = first[..^EscapeSuffix.Length];
        return first == ReviewsFolder ? path[..slash] + EscapeSuffix + path[slash..] : path;
    }

    /// <summary>
    /// Why a path (a blob name, or part of one) cannot be used as a blob name as it stands, or null when it can: the SDKs
    /// and the service drop or merge empty, '.' and '..' segments (<c>a//b</c>, <c>/a</c>, <c>a/../b</c>) and turn '' into
    /// '/', so such a blob cannot be addressed by its listed name.
    /// </summary>
    public static string? PathProblem(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0)
            return "the name is empty";
        if (path.Length > MaxBlobNameLength)
            return $"the name is {path.Length} characters long, over {MaxBlobNameLength}";
        if (path.Any(char.IsControl))
            return "the name contains control characters";
        if (path.Contains('\\', StringComparison.Ordinal))
            return "the name contains '\\'";
        if (path.Split('/').Any(segment => segment is "" or "." or ".."))
            return "the name has an empty, '.' or '..' segment (a leading, trailing or double '/')";
        return null;
    }

    // Names this class gives out itself at the top of a batch folder: the batch files and hashed names. A plain path
    // that is one of them, followed by any number of ".image", is escaped with one more ".image", which keeps the
    // mapping one-to-one (the escaped names are a set closed under adding ".image").
    private static bool IsReserved(string path)
    {
        string stem = path;
        while (stem.EndsWith(EscapeSuffix, StringComparison.Ordinal))
            stem = stem[..^EscapeSuffix.Length];
        return BatchFiles.Contains(stem + ".json")
            || (stem.Length == 64 + HashedSuffix.Length && stem.EndsWith(HashedSuffix, StringComparison.Ordinal) && stem[..64].All(char.IsAsciiHexDigitLower));
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
