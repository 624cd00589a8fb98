using System.Text.Json;
using AlexNet.Model;
using AlexNet.Model.Data;
using AlexNet.Model.Packaging;
using AlexNet.Model.Training;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Hosting;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Worker;

/// <summary>How one train job message was settled.</summary>
public enum TrainJobOutcome
{
    /// <summary>Trained (or found trained before) and published; <c>train-done.json</c> says succeeded.</summary>
    Succeeded,

    /// <summary>Training failed; <c>train-done.json</c> carries the error and the message is completed.</summary>
    Failed,

    /// <summary><c>train-done.json</c> existed already: a redelivery after the work was done.</summary>
    AlreadyDone,

    /// <summary>Not a valid job: dead-lettered with the reason.</summary>
    DeadLettered,

    /// <summary>Stopped by shutdown (a checkpoint is kept) or the marker could not be written: delivered again later.</summary>
    Abandoned,
}

/// <summary>
/// Runs one <see cref="TrainJob"/>: downloads <c>training/&lt;dataset&gt;/&lt;class&gt;/&lt;file&gt;</c> into a work
/// folder, trains with <see cref="Trainer"/> (resuming a checkpoint a previous delivery left on this machine),
/// publishes the candidate through <see cref="ModelRegistry.PublishAsync"/> with the job's parent and data
/// fingerprint, uploads the run's metrics and plots to <c>runs/&lt;job&gt;/</c>, scores candidate and current model on
/// the same validation images (<see cref="CandidateEvaluation"/>), writes <c>runs/&lt;job&gt;/train-done.json</c> with
/// that evaluation and only then completes the message. The lock is renewed for the whole
/// run, so a worker that dies mid-training lets the job come back (to resume) rather than vanish.
/// </summary>
public sealed partial class TrainJobProcessor
{
    private const int DownloadParallelism = 16;

    /// <summary>The trainer's per-epoch <c>metrics.json</c>, as uploaded into <c>runs/&lt;job&gt;/</c>.</summary>
    public const string TrainMetricsFile = "train-metrics.json";

    private readonly IBlobStore store;
    private readonly ModelRegistry registry;
    private readonly CandidateEvaluation evaluation;
    private readonly WorkerOptions options;
    private readonly WorkerTelemetry telemetry;
    private readonly WorkerQueue queue;
    private readonly TimeProvider time;
    private readonly ILogger logger;

    public TrainJobProcessor(
        IWorkQueueFactory queues,
        IBlobStore store,
        ModelRegistry registry,
        CandidateEvaluation evaluation,
        IOptions<WorkerOptions> options,
        IOptions<MessagingOptions> messaging,
        WorkerTelemetry telemetry,
        QueueHealth health,
        TimeProvider time,
        ILogger<TrainJobProcessor> logger)
    {
        ArgumentNullException.ThrowIfNull(queues);
        ArgumentNullException.ThrowIfNull(options);
        this.options = options.Value;
        ArgumentNullException.ThrowIfNull(messaging);
        this.store = store;
        this.registry = registry;
        this.evaluation = evaluation;
        this.telemetry = telemetry;
        this.time = time;
        this.logger = logger;
        queue = new WorkerQueue(queues.GetQueue(messaging.Value.TrainQueue), health, telemetry, time, logger);
    }

    /// <summary>The train queue (<c>Messaging:TrainQueue</c>), with the receive and settle steps the label loop shares.</summary>
    public WorkerQueue Queue => queue;

    /// <summary>Where job <paramref name="jobId"/> keeps its data and checkpoints while it runs.</summary>
    public string JobFolder(string jobId) =>
        Path.Combine(string.IsNullOrWhiteSpace(options.WorkFolder) ? Path.GetTempPath() : options.WorkFolder, "alexnet-train", jobId);

    /// <summary>Takes at most one job (training uses the whole machine), waiting up to <c>Worker:ReceiveWait</c>.</summary>
    public async Task<ReceivedMessage?> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        IReadOnlyList<ReceivedMessage> messages = await queue.ReceiveAsync(1, options.ReceiveWait, cancellationToken).ConfigureAwait(false);
        return messages.Count > 0 ? messages[0] : null;
    }

    /// <summary>Runs the job of <paramref name="message"/> and settles the message. Cancelling stops training (checkpointed) and abandons it.</summary>
    public async Task<TrainJobOutcome> ProcessAsync(ReceivedMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        telemetry.RecordLag(time.GetUtcNow() - message.EnqueuedAt);
        var (job, error) = Read(message.Body);
        if (job is null)
        {
            // A job the orchestration can be told about should not leave it waiting for its timeout.
            if (TryReadJobId(message.Body) is { } jobId)
            {
                try
                {
                    await WriteDoneAsync(new TrainDone(jobId, "", false, $"invalid train job: {error}", new Dictionary<string, double>(), time.GetUtcNow()), CancellationToken.None)
                        .ConfigureAwait(false);
                }
                catch (Exception failure)
                {
                    LogMarkerFailed(logger, failure, jobId);
                }
            }
            return await DeadLetterAsync(message, $"invalid train job: {error}").ConfigureAwait(false);
        }

        if (await store.GetEntryAsync(PipelineNames.RunsContainer, PipelineNames.TrainDoneBlob(job.JobId), cancellationToken).ConfigureAwait(false) is not null)
        {
            LogAlreadyDone(logger, job.JobId);
            return await SettleAsync(message, complete: true, TrainJobOutcome.AlreadyDone).ConfigureAwait(false);
        }

        TrainDone done;
        await using (var renewer = new MessageLockRenewer(queue.Queue, [message], options.LockRenewInterval, time, logger))
        {
            try
            {
                done = await TrainAsync(job, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                LogStopped(logger, job.JobId, JobFolder(job.JobId));
                await renewer.ReleaseAsync(message).ConfigureAwait(false);
                return await SettleAsync(message, complete: false, TrainJobOutcome.Abandoned).ConfigureAwait(false);
            }
            catch (Exception failure)
            {
                LogTrainingFailed(logger, failure, job.JobId, job.Dataset);
                done = new TrainDone(job.JobId, job.CandidateVersion, false, $"{failure.GetType().Name}: {failure.Message}", new Dictionary<string, double>(), time.GetUtcNow());
            }
            await renewer.ReleaseAsync(message).ConfigureAwait(false);
            if (renewer.IsLost(message))
                LogLockLostDuringTraining(logger, job.JobId);
        }

        try
        {
            await WriteDoneAsync(done, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception failure)
        {
            LogMarkerFailed(logger, failure, job.JobId);
            return await SettleAsync(message, complete: false, TrainJobOutcome.Abandoned).ConfigureAwait(false);
        }

        telemetry.TrainJobFinished(done.Succeeded);
        TryDeleteFolder(JobFolder(job.JobId));
        return await SettleAsync(message, complete: true, done.Succeeded ? TrainJobOutcome.Succeeded : TrainJobOutcome.Failed).ConfigureAwait(false);
    }

    private async Task<TrainDone> TrainAsync(TrainJob job, CancellationToken cancellationToken)
    {
        // Published by an earlier delivery that died before its marker: versions are immutable, so it is the result.
        if (await registry.GetManifestAsync(job.CandidateVersion, cancellationToken).ConfigureAwait(false) is { } published)
        {
            LogAlreadyPublished(logger, job.JobId, job.CandidateVersion);
            return new TrainDone(job.JobId, job.CandidateVersion, true, null, published.Metrics, time.GetUtcNow(), await EvaluateAsync(job, cancellationToken).ConfigureAwait(false));
        }

        string folder = JobFolder(job.JobId);
        string dataFolder = Path.Combine(folder, "data");
        string runFolder = Path.Combine(folder, "run");
        long started = time.GetTimestamp();
        int images = await DownloadAsync(job.Dataset, dataFolder, cancellationToken).ConfigureAwait(false);
        LogDownloaded(logger, job.JobId, images, job.Dataset, time.GetElapsedTime(started).TotalSeconds);

        string? parent = job.ParentVersion ?? (await registry.GetCurrentAsync(cancellationToken).ConfigureAwait(false))?.Version;
        // Training uses the worker's devices as labeling does: two GPUs train the paper's two towers, one the grouped network.
        DevicePlacement placement = DevicePlacement.ForThisMachine(options);
        LogTrainingPlacement(logger, job.JobId, placement.ToString());
        ModelPackage? start = job.FineTuneFrom is { } from ? await registry.LoadAsync(from, cancellationToken).ConfigureAwait(false) : null;
        TrainingOptions settings = job.ToTrainingOptions();
        if (start is not null)
        {
            // Fine-tuning keeps the start model's geometry unless the job names its own.
            settings = settings with { InputSize = job.InputSize ?? start.Manifest.InputSize, BaseSize = job.BaseSize ?? start.Manifest.BaseSize };
            LogFineTuning(logger, job.JobId, start.Manifest.Version, start.Manifest.Classes.Count);
        }
        var trainer = new Trainer(settings with
        {
            Layout = placement.Layout,
            Devices = placement.Devices,
            Version = job.CandidateVersion,
            ParentVersion = parent,
        }, time);
        ImageDataSet data = await ImageDataSet.ListAsync(new FolderImageSource(dataFolder), cancellationToken).ConfigureAwait(false);
        var progress = new LogProgress(logger, job.JobId);
        TrainingResult result = start is null
            ? await trainer.RunAsync(data, runFolder, resume: true, progress, cancellationToken).ConfigureAwait(false)
            : await trainer.FineTuneAsync(start, data, runFolder, resume: true, progress, cancellationToken).ConfigureAwait(false);

        ModelPackage trained = ModelPackage.LoadDirectory(result.ModelDirectory);
        if (trained.Manifest.TrainingDataFingerprint != job.TrainingFingerprint)
            LogFingerprintDiffers(logger, job.JobId, job.TrainingFingerprint, trained.Manifest.TrainingDataFingerprint ?? "none");

        // The job's fingerprint is the snapshot the orchestration decided on; it is what the next retrain compares with.
        ModelManifest manifest = trained.Manifest with { ParentVersion = parent, TrainingDataFingerprint = job.TrainingFingerprint };
        ModelPackage candidate = ModelPackage.FromWeights(manifest, trained.WeightsBytes.ToArray());
        await registry.PublishAsync(candidate, cancellationToken).ConfigureAwait(false);
        await UploadRunFilesAsync(job.JobId, runFolder, cancellationToken).ConfigureAwait(false);

        var metrics = new Dictionary<string, double>(manifest.Metrics)
        {
            ["rejected_images"] = result.RejectedImages,
            ["seconds"] = time.GetElapsedTime(started).TotalSeconds,
        };
        LogPublished(logger, job.JobId, job.CandidateVersion, result.FinalValidation.Top1Error, result.FinalValidation.Top5Error, result.Outcome.ToString());
        return new TrainDone(job.JobId, job.CandidateVersion, true, null, metrics, time.GetUtcNow(), await EvaluateAsync(job, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Candidate and the model it would replace (the job's parent) on the same validation images, evidence in <c>runs/&lt;job&gt;/</c>.</summary>
    private async Task<EvaluationSummary> EvaluateAsync(TrainJob job, CancellationToken cancellationToken)
    {
        EvaluationSummary summary = await evaluation.RunAsync(
            new EvaluateCandidateInput(job.JobId, job.Dataset, job.CandidateVersion, job.ParentVersion, job.Seed), cancellationToken).ConfigureAwait(false);
        LogEvaluated(logger, job.JobId, summary.Candidate.Top1Error, summary.Current?.Top1Error, summary.MajorityTop1Error, summary.Images);
        return summary;
    }

    /// <summary>Copies the data set into <paramref name="folder"/>; files already there at the right size (an earlier delivery) are kept.</summary>
    private async Task<int> DownloadAsync(string dataset, string folder, CancellationToken cancellationToken)
    {
        string prefix = dataset + "/";
        var entries = new List<BlobEntry>();
        await foreach (BlobEntry entry in store.ListAsync(PipelineNames.TrainingContainer, prefix, cancellationToken).ConfigureAwait(false))
        {
            string relative = entry.Name[prefix.Length..];
            string[] segments = relative.Split('/');
            // Only <class>/<file>; anything that could climb out of the folder or hide from the trainer is left out.
            if (segments.Length >= 2 && segments.All(s => s.Length > 0 && s is not "." and not ".." && !s.StartsWith('.')))
                entries.Add(entry);
        }

        Directory.CreateDirectory(folder);
        await Parallel.ForEachAsync(entries, new ParallelOptions { MaxDegreeOfParallelism = DownloadParallelism, CancellationToken = cancellationToken }, async (entry, ct) =>
        {
            string target = Path.Combine(folder, entry.Name[prefix.Length..].Replace('/', Path.DirectorySeparatorChar));
            var existing = new FileInfo(target);
            if (existing.Exists && existing.Length == entry.Size)
                return;
            BlobDownload? download = await store.DownloadAsync(entry.Container, entry.Name, ct).ConfigureAwait(false);
            if (download is null)
                return; // deleted since listed: the listing, and so the fingerprint, leave it out
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            AtomicFile.Write(target, download.Content.ToArray());
        }).ConfigureAwait(false);
        return entries.Count;
    }

    private async Task UploadRunFilesAsync(string jobId, string runFolder, CancellationToken cancellationToken)
    {
        foreach (string file in Directory.EnumerateFiles(runFolder).Where(f => f.EndsWith(".json", StringComparison.Ordinal) || f.EndsWith(".png", StringComparison.Ordinal)))
        {
            string contentType = file.EndsWith(".png", StringComparison.Ordinal) ? "image/png" : "application/json";
            byte[] bytes = await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
            // runs/<job>/metrics.json is the Retrain report; the trainer's own per-epoch metrics go beside it.
            string name = Path.GetFileName(file) == Trainer.MetricsFile ? TrainMetricsFile : Path.GetFileName(file);
            await store.UploadAsync(PipelineNames.RunsContainer, $"{jobId}/{name}", BinaryData.FromBytes(bytes), contentType, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
        }
    }

    private Task WriteDoneAsync(TrainDone done, CancellationToken cancellationToken) =>
        store.CreateIfAbsentAsync(
            PipelineNames.RunsContainer, PipelineNames.TrainDoneBlob(done.JobId),
            BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(done, ContractsJsonContext.Default.TrainDone)), "application/json", cancellationToken);

    /// <summary>Completes or abandons the message; when the queue refuses, it is delivered again, and the marker (or the checkpoint) makes that delivery cheap.</summary>
    private async Task<TrainJobOutcome> SettleAsync(ReceivedMessage message, bool complete, TrainJobOutcome outcome)
    {
        _ = complete ? await queue.CompleteAsync(message).ConfigureAwait(false) : await queue.AbandonAsync(message).ConfigureAwait(false);
        return outcome;
    }

    private async Task<TrainJobOutcome> DeadLetterAsync(ReceivedMessage message, string reason)
    {
        await queue.DeadLetterAsync(message, reason).ConfigureAwait(false);
        return TrainJobOutcome.DeadLettered;
    }

    /// <summary>The job, or why it can never run.</summary>
    public static (TrainJob? Job, string? Error) Read(BinaryData body)
    {
        ArgumentNullException.ThrowIfNull(body);
        TrainJob job;
        try
        {
            job = ContractSerializer.FromBinary<TrainJob>(body);
        }
        catch (Exception error) when (error is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            return (null, $"body is not a TrainJob: {error.Message}");
        }
        if (job.JobId is null || !IsSegment(job.JobId))
            return (null, $"job id '{job.JobId}' must be 1-128 letters, digits, '-', '_' or '.'");
        if (job.Dataset is null || !IsSegment(job.Dataset))
            return (null, $"dataset '{job.Dataset}' must be 1-128 letters, digits, '-', '_' or '.'");
        try
        {
            ModelRegistry.ValidateVersion(job.CandidateVersion ?? "");
            if (job.ParentVersion is not null)
                ModelRegistry.ValidateVersion(job.ParentVersion);
            if (job.FineTuneFrom is not null)
                ModelRegistry.ValidateVersion(job.FineTuneFrom);
            job.ToTrainingOptions().Validate();
        }
        catch (ArgumentException error)
        {
            return (null, error.Message);
        }
        if (string.IsNullOrWhiteSpace(job.TrainingFingerprint))
            return (null, "training fingerprint is missing");
        return (job, null);
    }

    private static string? TryReadJobId(BinaryData body)
    {
        try
        {
            string? id = ContractSerializer.FromBinary<TrainJob>(body).JobId;
            return id is not null && IsSegment(id) ? id : null;
        }
        catch (Exception error) when (error is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            return null;
        }
    }

    private static bool IsSegment(string value) => SafeId.IsValid(value);

    private void TryDeleteFolder(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
        catch (IOException error)
        {
            LogCleanupFailed(logger, error, folder);
        }
        catch (UnauthorizedAccessException error)
        {
            LogCleanupFailed(logger, error, folder);
        }
    }

    /// <summary>Logs the trainer's epoch summaries (reports that carry a message), not every step.</summary>
    private sealed class LogProgress(ILogger logger, string jobId) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Message is { } message)
                LogTrainingProgress(logger, jobId, value.Phase.ToString(), message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Train job {JobId}: {Phase}: {Message}")]
    private static partial void LogTrainingProgress(ILogger logger, string jobId, string phase, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Train job {JobId}: {Images} image(s) of data set {Dataset} ready in {Seconds:F1} s")]
    private static partial void LogDownloaded(ILogger logger, string jobId, int images, string dataset, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Train job {JobId}: candidate {Version} published; validation top-1 error {Top1:P2}, top-5 error {Top5:P2} ({Outcome})")]
    private static partial void LogPublished(ILogger logger, string jobId, string version, double top1, double top5, string outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "Train job {JobId} is done already (train-done.json exists); completing the redelivered message")]
    private static partial void LogAlreadyDone(ILogger logger, string jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Train job {JobId}: candidate {Version} was published by an earlier delivery; reporting it")]
    private static partial void LogAlreadyPublished(ILogger logger, string jobId, string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Train job {JobId}: the job's data fingerprint {Job} differs from the downloaded set's {Trained}; the data changed after the snapshot")]
    private static partial void LogFingerprintDiffers(ILogger logger, string jobId, string job, string trained);

    [LoggerMessage(Level = LogLevel.Error, Message = "Train job {JobId} on data set {Dataset} failed")]
    private static partial void LogTrainingFailed(ILogger logger, Exception error, string jobId, string dataset);

    [LoggerMessage(Level = LogLevel.Information, Message = "Train job {JobId} stopped by shutdown; its checkpoint stays in {Folder} and the job will be delivered again")]
    private static partial void LogStopped(ILogger logger, string jobId, string folder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Train job {JobId}: the message lock was lost during training; the job may run again, and will find its marker or its published version")]
    private static partial void LogLockLostDuringTraining(ILogger logger, string jobId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Train job {JobId}: train-done.json could not be written; abandoning the message")]
    private static partial void LogMarkerFailed(ILogger logger, Exception error, string jobId);



    [LoggerMessage(Level = LogLevel.Information, Message = "Train job {JobId}: candidate top-1 error {Candidate:P2}, current {Current:P2}, majority-class baseline {Majority:P2} on {Images} validation images")]
    private static partial void LogEvaluated(ILogger logger, string jobId, double candidate, double? current, double majority, int images);

    [LoggerMessage(Level = LogLevel.Information, Message = "Train job {JobId} trains on {Placement}")]
    private static partial void LogTrainingPlacement(ILogger logger, string jobId, string placement);

    [LoggerMessage(Level = LogLevel.Information, Message = "Train job {JobId} fine-tunes model {Version} ({Classes} classes)")]
    private static partial void LogFineTuning(ILogger logger, string jobId, string version, int classes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete the work folder {Folder}")]
    private static partial void LogCleanupFailed(ILogger logger, Exception error, string folder);
}
