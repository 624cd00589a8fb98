using System.Globalization;
using AlexNet.Model;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>Job ids and candidate versions of retrain runs, derived only from the instance id and orchestration time (replay-safe).</summary>
public static class RetrainNames
{
    /// <summary>Start of every retrain instance id (and of a hashed job id); batch ids may not start with it.</summary>
    public const string InstancePrefix = "retrain-";

    private const int MaxDatasetPart = 32;

    /// <summary>One instance per dataset and minute, so a repeated request or a timer that fires twice starts one run.</summary>
    public static string InstanceId(string dataset, DateTimeOffset at) =>
        string.Create(CultureInfo.InvariantCulture, $"{InstancePrefix}{dataset}-{at.UtcDateTime:yyyyMMdd-HHmm}");

    /// <summary>A data set is one folder of <c>training/</c>: a <see cref="SafeId"/>, like a batch id.</summary>
    public static void ValidateDataset(string dataset) => SafeId.Validate("dataset", dataset, nameof(dataset));

    /// <summary>The instance id when it is a safe path segment, else a hash of it.</summary>
    public static string JobId(string instanceId)
    {
        try
        {
            LabelPaths.ValidateBatch(instanceId);
            return instanceId;
        }
        catch (ArgumentException)
        {
            return InstancePrefix + PipelineNames.MessageId(instanceId)[..16];
        }
    }

    /// <summary><c>&lt;dataset&gt;-&lt;yyyyMMdd-HHmmss&gt;-&lt;6 hex of the instance id&gt;</c>: unique per run, sorted by time, at most 61 characters.</summary>
    public static string CandidateVersion(string dataset, string instanceId, DateTime startedAt)
    {
        string name = dataset.Length > MaxDatasetPart ? dataset[..MaxDatasetPart] : dataset;
        return string.Create(CultureInfo.InvariantCulture, $"{name}-{startedAt:yyyyMMdd-HHmmss}-{PipelineNames.MessageId(instanceId)[..6]}");
    }
}
