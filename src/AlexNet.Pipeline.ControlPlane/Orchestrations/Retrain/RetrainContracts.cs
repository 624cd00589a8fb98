using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>The training set as it is now, and what the current model was trained on.</summary>
/// <param name="Fingerprint">Of the listing of <c>training/&lt;dataset&gt;/</c>: <see cref="AlexNet.Model.Data.ImageDataSet.Fingerprint"/>, the value the trainer stamps on its manifests.</param>
/// <param name="Reviewed">The images review decisions copied into the data set, and the labels they changed.</param>
public sealed record FingerprintResult(string Fingerprint, int Images, int Classes, string? CurrentVersion, string? CurrentFingerprint, ReviewedDataSummary? Reviewed = null);

/// <summary>Custom status of Retrain.</summary>
/// <param name="Phase">fingerprinting, training, evaluating, promoting, reporting or done.</param>
public sealed record RetrainProgress(string Phase, string? JobId, string? CandidateVersion);

/// <param name="Deadline">Orchestration time after which the wait fails.</param>
public sealed record TrainWaitInput(string JobId, DateTime Deadline, int PollSeconds, int PollsPerHistory);

/// <param name="ExpectedCurrent">The version the candidate was compared with: promotion is skipped if another took its place meanwhile.</param>
public sealed record PromoteInput(string CandidateVersion, string? ExpectedCurrent, string Reason);

public sealed record PromoteResult(bool Promoted, string Current, string? Previous, string Reason);

public sealed record WriteRetrainReportInput(RetrainReport Report);
