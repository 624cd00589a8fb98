using System.Text.Json;
using System.Text.Json.Serialization;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Orchestrations;

namespace AlexNet.Pipeline.Api;

/// <summary>The 202 body of a start: the instance id and where its status is read (this API's route, no keys in it).</summary>
public sealed record Started(string Id, string StatusQueryGetUri);

/// <summary>A batch's labeling run was started (<paramref name="Created"/>) or had been started before.</summary>
public sealed record BatchStarted(string Batch, string InstanceId, bool Created, LabelBatchInput Input);

/// <summary>
/// A batch as far as it is known: its orchestration (state <c>NotFound</c> when none ran here) with its progress and
/// result, and <c>labels/&lt;batch&gt;/summary.json</c> once written. Progress and result are read from whatever casing
/// the durable engine stored them in and written in the API's (camelCase), so clients see one shape on every host.
/// </summary>
public sealed record BatchStatusView(
    string Batch,
    OrchestrationState State,
    LabelBatchProgress? Progress,
    BatchResult? Result,
    string? Failure,
    DateTimeOffset? CreatedAt,
    DateTimeOffset? LastUpdatedAt,
    BatchSummary? Summary,
    WaitingForModel? Waiting = null);

/// <summary>A retraining run as its orchestration knows it: state, phase (with the train job and candidate) and, once done, its result.</summary>
public sealed record RetrainStatusView(
    string InstanceId,
    OrchestrationState State,
    RetrainProgress? Progress,
    RetrainResult? Result,
    string? Failure,
    DateTimeOffset? CreatedAt,
    DateTimeOffset? LastUpdatedAt);

/// <summary>
/// Uploads of a batch that cannot be labeled because no model is promoted yet (<c>models/current.json</c>), and what
/// to do about it. <paramref name="AtLeast"/> when the count stopped at the listing limit.
/// </summary>
public sealed record WaitingForModel(int Uploads, bool AtLeast, string Reason, string Advice);

/// <summary>The records of one image: <see cref="Status"/> is that of the newer when both exist.</summary>
public sealed record ImageLabelsView(string Batch, string Path, string Status, LabelRecord? Label, RejectedRecord? Rejection);

/// <summary>One published model version, without its preprocessing constants.</summary>
public sealed record ModelView(
    string Version,
    string? ParentVersion,
    DateTimeOffset CreatedAt,
    int Classes,
    int InputSize,
    string Layout,
    string WeightsSha256,
    string? TrainingDataFingerprint,
    IReadOnlyDictionary<string, double> Metrics,
    bool IsCurrent,
    string? ManifestSha256);

/// <summary>A folder under <c>models/</c> whose manifest is not valid, and why; it cannot be promoted or loaded.</summary>
public sealed record UnreadableModelView(string Version, string Reason);

/// <summary>The published versions, newest first, the pointer <c>models/current.json</c>, and folders whose manifest is not valid.</summary>
public sealed record ModelsView(CurrentModelPointer? Current, IReadOnlyList<ModelView> Models, IReadOnlyList<UnreadableModelView> Unreadable);

public sealed record RetrainStarted(string Dataset, string InstanceId, RetrainInput Input);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(BatchStarted))]
[JsonSerializable(typeof(Started))]
[JsonSerializable(typeof(RetrainStatusView))]
[JsonSerializable(typeof(BatchStatusView))]
[JsonSerializable(typeof(ImageLabelsView))]
[JsonSerializable(typeof(ModelsView))]
[JsonSerializable(typeof(CurrentModelPointer))]
[JsonSerializable(typeof(RetrainStarted))]
[JsonSerializable(typeof(LabelBatchInput))]
[JsonSerializable(typeof(RetrainInput))]
[JsonSerializable(typeof(PromoteRequest))]
[JsonSerializable(typeof(ModelPublished))]
[JsonSerializable(typeof(ReviewPageView))]
[JsonSerializable(typeof(ReviewDecisionInput))]
[JsonSerializable(typeof(ReviewRecord))]
[JsonSerializable(typeof(ImagesView))]
[JsonSerializable(typeof(AlexNet.Pipeline.Labeling.Interchange.AnnotationImportResult))]
public sealed partial class ApiJsonContext : JsonSerializerContext;
