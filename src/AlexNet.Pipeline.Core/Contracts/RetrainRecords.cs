using System.Text.Json;
using System.Text.Json.Serialization;
using AlexNet.Model.Evaluation;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;

namespace AlexNet.Pipeline.Contracts;

/// <summary>What the worker's evaluator compares after training: the candidate and the model it would replace.</summary>
public sealed record EvaluateCandidateInput(string JobId, string Dataset, string CandidateVersion, string? CurrentVersion, int Seed);

/// <summary>A validation image whose top-1 label differs between the current model and the candidate.</summary>
public sealed record LabelChange(string Item, string TrueLabel, string Current, string Candidate);

/// <summary>
/// What the worker's candidate evaluation found: both models on the same validation images, and every image whose
/// top-1 label the candidate would change. The reports (confusion matrices) are optional: they feed the plots.
/// </summary>
public sealed record ModelComparison(
    string ValidationSet,
    int Images,
    ModelScore Candidate,
    ModelScore? Current,
    IReadOnlyList<LabelChange> Changes,
    int Compared,
    EvaluationReport? CandidateReport = null,
    EvaluationReport? CurrentReport = null,
    int Classes = 0,
    double MajorityTop1Error = 1,
    string? CurrentNotScored = null);


/// <summary><c>runs/&lt;job&gt;/metrics.json</c>: the whole decision of one retrain run.</summary>
/// <param name="Reviewed">The reviewed images in the training set: how many labels review decisions changed, and how many are new since the current model.</param>
public sealed record RetrainReport(
    string JobId,
    string Dataset,
    string Outcome,
    string Reason,
    string Fingerprint,
    string CandidateVersion,
    string? CurrentVersion,
    double GatePoints,
    EvaluationSummary? Evaluation,
    double? Top1ChurnFraction,
    IReadOnlyDictionary<string, double>? TrainMetrics,
    string? TrainError,
    DateTime DecidedAt,
    ReviewedDataSummary? Reviewed = null);

/// <summary><c>runs/&lt;job&gt;/label-churn.json</c>: how the candidate would change the top-1 labels of the validation images.</summary>
public sealed record LabelChurnReport(
    string CandidateVersion,
    string? CurrentVersion,
    int Compared,
    int Changed,
    double Fraction,
    IReadOnlyList<LabelTransition> Transitions,
    IReadOnlyList<LabelChange> Examples);

public sealed record LabelTransition(string Current, string Candidate, int Images);

public static class RetrainPaths
{
    public const string Metrics = "metrics.json";
    public const string Evaluation = "evaluation.json";
    public const string LabelChurn = "label-churn.json";
    public const string Job = "train-job.json";
    public const string ComparisonPlot = "comparison.png";
    public const string CandidateConfusionPlot = "confusion-candidate.png";
    public const string CurrentConfusionPlot = "confusion-current.png";

    /// <summary>A file of a run in the <c>runs</c> container.</summary>
    public static string RunFile(string jobId, string file) => $"{jobId}/{file}";

    public static string Blob(string jobId, string file) => $"{PipelineNames.RunsContainer}/{RunFile(jobId, file)}";
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RetrainReport))]
[JsonSerializable(typeof(LabelChurnReport))]
[JsonSerializable(typeof(ModelComparison))]
public sealed partial class RetrainJsonContext : JsonSerializerContext;
