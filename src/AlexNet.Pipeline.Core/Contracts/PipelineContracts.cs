using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AlexNet.Pipeline.Contracts;

/// <summary>Queue and container names shared by the Functions app, the worker and the local pipeline.</summary>
public static class PipelineNames
{
    public const string LabelQueue = "label-requests";
    public const string TrainQueue = "train-jobs";

    public const string IncomingContainer = "incoming";
    public const string TrainingContainer = "training";
    public const string LabelsContainer = "labels";
    public const string ModelsContainer = "models";
    public const string RunsContainer = "runs";
    public const string RejectedContainer = "rejected";

    public static readonly IReadOnlyList<string> Containers =
        [IncomingContainer, TrainingContainer, LabelsContainer, ModelsContainer, RunsContainer, RejectedContainer];

    /// <summary><c>models/current.json</c>: the promoted model version.</summary>
    public const string CurrentModelBlob = "current.json";

    /// <summary>The id of a batch's chunk <paramref name="index"/> (in the listing's name order): <c>c00000</c>, <c>c00001</c>, ...</summary>
    public static string ChunkId(int index) => "c" + index.ToString("D5", CultureInfo.InvariantCulture);

    /// <summary>Chunk request written by the orchestration: <c>runs/&lt;batch&gt;/chunks/&lt;chunk&gt;.request.json</c>.</summary>
    public static string ChunkRequestBlob(string batch, string chunk) => $"{batch}/chunks/{chunk}.request.json";

    /// <summary>Chunk completion written by the worker: <c>runs/&lt;batch&gt;/chunks/&lt;chunk&gt;.done.json</c>.</summary>
    public static string ChunkDoneBlob(string batch, string chunk) => $"{batch}/chunks/{chunk}.done.json";

    /// <summary>The records of a chunk's images, written by the worker before the done marker: <c>runs/&lt;batch&gt;/chunks/&lt;chunk&gt;.records.json</c>.</summary>
    public static string ChunkRecordsBlob(string batch, string chunk) => $"{batch}/chunks/{chunk}.records.json";

    public static string ChunkPrefix(string batch) => $"{batch}/chunks/";

    /// <summary>Train job completion written by the worker: <c>runs/&lt;job&gt;/train-done.json</c>.</summary>
    public static string TrainDoneBlob(string jobId) => $"{jobId}/train-done.json";

    /// <summary>
    /// A Service Bus MessageId (at most 128 characters) that is the same for the same logical request, so the
    /// broker's duplicate detection drops repeats: a SHA-256 of the parts.
    /// </summary>
    public static string MessageId(params string[] parts) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', parts))));
}

/// <summary>One image of a label request: its path and what the sender knew of it.</summary>
/// <param name="Path">The blob name in the request's container.</param>
/// <param name="ETag">
/// The ETag the image had when it was listed or uploaded, or null. The worker then skips its own look-up of the image
/// (one storage request) and labels that version, or finds it labeled already; an image changed since has an upload
/// event of its own.
/// </param>
/// <param name="HasRecord">
/// Whether the image had a label or rejected record when its batch was listed; null when unknown. With false the
/// worker skips its record look-ups (one storage request each); a record written since is still found, by the
/// conditional create that then fails.
/// </param>
public sealed record LabelItem(string Path, string? ETag = null, bool? HasRecord = null)
{
    /// <summary>
    /// Items from the parallel lists that messages and chunk request blobs carried before <see cref="LabelItem"/>: an
    /// ETag or record list counts only when it has exactly one entry per path, as it did then.
    /// </summary>
    public static IReadOnlyList<LabelItem> FromParallelLists(IReadOnlyList<string> paths, IReadOnlyList<string>? etags, IReadOnlyList<bool>? recorded)
    {
        ArgumentNullException.ThrowIfNull(paths);
        bool hasETags = etags is not null && etags.Count == paths.Count;
        bool hasRecorded = recorded is not null && recorded.Count == paths.Count;
        return [.. paths.Select((path, i) => new LabelItem(
            path,
            hasETags && !string.IsNullOrEmpty(etags![i]) ? etags[i] : null,
            hasRecorded ? recorded![i] : null))];
    }
}

/// <summary>
/// Work for the worker: label these images of one batch. Carries references (container + paths), never bytes.
/// Chunk "ingest" requests come from the upload trigger one image at a time; orchestration chunks carry up to a few
/// hundred items.
/// </summary>
/// <param name="Items">The images, one entry each. Null only in a message written before items existed (see <see cref="LegacyPaths"/>).</param>
/// <param name="PathsInChunkRequest">
/// True when the message carries no items because they would not fit in it (a large chunk, long names): the worker
/// reads them from the chunk's request blob <c>runs/&lt;batch&gt;/chunks/&lt;chunk&gt;.request.json</c>.
/// </param>
/// <remarks>
/// Persisted (a queue message, possibly in flight across a deployment): fields are added as optional, never renamed.
/// Messages written before <see cref="Items"/> carried <c>paths</c>, <c>eTags</c> and <c>recorded</c> as parallel
/// lists (<see cref="LegacyPaths"/> and its two siblings); the worker still reads them (<see cref="WithItems"/>), and nothing
/// writes them any more.
/// </remarks>
public sealed record LabelRequest(
    string Batch,
    string Chunk,
    string Container,
    IReadOnlyList<LabelItem>? Items,
    DateTimeOffset RequestedAt,
    string? CropMode = null,
    string? TraceParent = null,
    bool PathsInChunkRequest = false)
{
    // The parallel lists of messages written before Items: read, never written, and named so that code reading a
    // request's images cannot take them for its items by mistake.

    /// <summary>Read only, from messages written before <see cref="Items"/>: the image paths (<c>paths</c>).</summary>
    [JsonPropertyName("paths")]
    public IReadOnlyList<string>? LegacyPaths { get; init; }

    /// <summary>Read only, from messages written before <see cref="Items"/>: one ETag per path (<c>eTags</c>).</summary>
    [JsonPropertyName("eTags")]
    public IReadOnlyList<string>? LegacyETags { get; init; }

    /// <summary>Read only, from messages written before <see cref="Items"/>: whether each path had a record (<c>recorded</c>).</summary>
    [JsonPropertyName("recorded")]
    public IReadOnlyList<bool>? LegacyRecorded { get; init; }

    /// <summary>
    /// The request with its images as <see cref="Items"/> whichever form it came in, the older parallel lists
    /// cleared; null when it has neither.
    /// </summary>
    public LabelRequest? WithItems() =>
        Items is not null ? this with { LegacyPaths = null, LegacyETags = null, LegacyRecorded = null }
        : LegacyPaths is not null
            ? this with { Items = LabelItem.FromParallelLists(LegacyPaths, LegacyETags, LegacyRecorded), LegacyPaths = null, LegacyETags = null, LegacyRecorded = null }
        : null;

    public const string Subject = "label";

    /// <summary>
    /// The largest body sent with its paths inline. A Storage Queue message holds 64 KB of text, and the body reaches it
    /// base64-encoded twice (in the envelope, then the message: 16/9 as long); Service Bus standard holds 256 KB. A larger
    /// chunk sends its paths by reference.
    /// </summary>
    public const int MaxInlineBodyBytes = 32 * 1024;

    /// <summary>Chunks the upload trigger sends for single images; they have no completion marker to wait for.</summary>
    public const string IngestChunkPrefix = "ingest-";

    public bool IsIngest => Chunk.StartsWith(IngestChunkPrefix, StringComparison.Ordinal);
}

/// <summary>
/// Written by the worker once every image of a chunk has a durable record (label or rejection) or is gone: deleted,
/// or replaced since it was queued (<paramref name="Vanished"/>; a replaced one is labeled through its own upload).
/// </summary>
/// <param name="Failed">Always 0 in markers this worker writes: a chunk with an item that failed is retried, not marked done. Kept for markers already written.</param>
/// <remarks>Persisted (a blob read by the orchestration): fields are added as optional, never renamed.</remarks>
public sealed record ChunkDone(
    string Batch,
    string Chunk,
    int Images,
    int Labeled,
    int AlreadyLabeled,
    int Rejected,
    int Failed,
    double Seconds,
    string ModelVersion,
    string Worker,
    DateTimeOffset CompletedAt,
    int Vanished = 0);

/// <summary>
/// Work for the worker: train a candidate model on a training set snapshot, then score it and the current model
/// (<see cref="ParentVersion"/>) on the same validation images. Null training settings take the defaults of the
/// recipe (<c>TrainingOptions</c>, the one source of them); the base size follows the input size.
/// </summary>
/// <param name="FineTuneFrom">
/// A published model version to start from (every layer copied, the last re-initialised when the classes differ; its
/// input size, normalisation and base size unless the job names them), or null to train from scratch.
/// </param>
/// <remarks>Persisted (a queue message): fields are added as optional, never renamed; ints became nullable ints, which old messages still fill.</remarks>
public sealed record TrainJob(
    string JobId,
    string Dataset,
    string CandidateVersion,
    string? ParentVersion,
    string TrainingFingerprint,
    int? Epochs,
    int? InputSize,
    int? BaseSize,
    int? BatchSize,
    double? LearningRate,
    int Seed,
    DateTimeOffset RequestedAt,
    string? Recipe = null,
    string? FineTuneFrom = null)
{
    public const string Subject = "train";
}

/// <summary>A model's scores on the validation set. Errors are fractions.</summary>
public sealed record ModelScore(string Version, int Images, double Top1Error, double Top5Error, double Loss);

/// <summary>
/// Candidate and current model on the same validation images, as the worker that trained the candidate scored them;
/// the evidence (reports, churn, plots) is in <see cref="Artifacts"/>.
/// </summary>
/// <param name="Classes">Classes of the validation set.</param>
/// <param name="MajorityTop1Error">Top-1 error of always answering the validation set's most common class: the floor a model must clearly beat.</param>
public sealed record EvaluationSummary(
    string ValidationSet,
    int Images,
    ModelScore Candidate,
    ModelScore? Current,
    int Top1Changed,
    int Compared,
    IReadOnlyList<string> Artifacts,
    int Classes = 0,
    double MajorityTop1Error = 1,
    string? CurrentNotScored = null);

/// <summary>Written by the worker when a train job ends, successfully or not; a success carries the evaluation the gate decides on.</summary>
/// <remarks>Persisted (<c>runs/&lt;job&gt;/train-done.json</c>, read by orchestrations in flight): fields are only added.</remarks>
public sealed record TrainDone(
    string JobId,
    string CandidateVersion,
    bool Succeeded,
    string? Error,
    IReadOnlyDictionary<string, double> Metrics,
    DateTimeOffset CompletedAt,
    EvaluationSummary? Evaluation = null);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LabelRequest))]
[JsonSerializable(typeof(ChunkDone))]
[JsonSerializable(typeof(TrainJob))]
[JsonSerializable(typeof(TrainDone))]
public sealed partial class ContractsJsonContext : JsonSerializerContext;

public static class ContractSerializer
{
    public static BinaryData ToBinary<T>(T value) =>
        BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(value, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)ContractsJsonContext.Default.GetTypeInfo(typeof(T))!));

    public static T FromBinary<T>(BinaryData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return JsonSerializer.Deserialize(data.ToMemory().Span, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)ContractsJsonContext.Default.GetTypeInfo(typeof(T))!)
            ?? throw new JsonException($"empty {typeof(T).Name}");
    }
}
