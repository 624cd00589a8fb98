using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using AlexNet.Imaging;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Hosting;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Ingest;

public enum IngestOutcome
{
    /// <summary>A label request for the image was sent.</summary>
    Queued,

    /// <summary>The upload failed its checks; a rejected record was written.</summary>
    Rejected,

    /// <summary>The upload failed its checks and a rejected record for this version already existed.</summary>
    AlreadyRejected,

    /// <summary>The blob was gone by the time it was read.</summary>
    Vanished,
}

/// <summary>What <see cref="UploadIngestor"/> did with one upload.</summary>
public sealed record IngestResult(
    IngestOutcome Outcome,
    IncomingBlob Blob,
    string? ETag = null,
    string? MessageId = null,
    string? Code = null,
    string? Reason = null);

/// <summary>
/// Checks one uploaded blob cheaply and hands it on: a single-image <see cref="LabelRequest"/> on the label queue
/// when its header passes <see cref="ImageDecoder.Probe"/>, a rejected record otherwise. Only the first
/// <see cref="IngestOptions.HeadBytes"/> are read, so a bomb is refused without being downloaded. Idempotent: the
/// MessageId is a hash of (container, name, ETag), so a repeated event is dropped by duplicate detection, and the
/// rejected record is written create-if-absent. Used by the upload trigger, the sweep and the local pipeline.
/// </summary>
public sealed partial class UploadIngestor(
    IBlobHeadReader heads,
    IBlobStore store,
    IWorkQueueFactory queues,
    ImageDecoder decoder,
    IOptions<IngestOptions> options,
    IOptions<MessagingOptions> messaging,
    TimeProvider time,
    ILogger<UploadIngestor> logger)
{
    /// <summary>Rejection code for an upload outside <c>incoming/&lt;batch&gt;/</c>: nothing decides which batch it is in.</summary>
    public const string InvalidLocationCode = RejectedRecords.InvalidLocationCode;

    private readonly IngestOptions settings = options.Value;

    public string Container => settings.Container;

    /// <summary>Ingests <paramref name="name"/> of the upload container.</summary>
    public Task<IngestResult> IngestAsync(string name, CancellationToken cancellationToken = default) =>
        IngestAsync(settings.Container, name, cancellationToken);

    public Task<IngestResult> IngestAsync(string container, string name, CancellationToken cancellationToken = default) =>
        IngestAsync(container, name, listed: null, hasRecord: null, cancellationToken);

    /// <summary>
    /// Ingests an upload seen in a listing. A name the SDK cannot address (<c>/x.png</c>, <c>b//x.png</c>) reads as missing;
    /// the listing shows it exists, so it is rejected with the listed entry's identity instead of vanishing on every sweep.
    /// <paramref name="hasRecord"/> false says the sweep found no label or rejected record of any version for it: the
    /// message says so, and the worker does not look for one (a record written meanwhile is still found when its write
    /// meets it).
    /// </summary>
    public Task<IngestResult> IngestAsync(BlobEntry listed, bool? hasRecord = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(listed);
        return IngestAsync(listed.Container, listed.Name, listed, hasRecord, cancellationToken);
    }

    private async Task<IngestResult> IngestAsync(string container, string name, BlobEntry? listed, bool? hasRecord, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(container);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var blob = IncomingBlob.Parse(name);
        BlobHead? head = await heads.ReadHeadAsync(container, name, settings.HeadBytes, cancellationToken).ConfigureAwait(false);
        if (head is null && !blob.IsValid && listed is not null)
            head = new BlobHead(listed, ReadOnlyMemory<byte>.Empty);
        if (head is null)
        {
            LogVanished(logger, container, name);
            return new IngestResult(IngestOutcome.Vanished, blob);
        }

        if (!blob.IsValid)
            return await RejectAsync(blob, head, InvalidLocationCode, $"Upload '{name}': {blob.LocationError}.", cancellationToken).ConfigureAwait(false);

        if (Check(head) is { } rejection)
            return await RejectAsync(blob, head, rejection.Code.ToString(), rejection.Reason, cancellationToken).ConfigureAwait(false);

        return await SendAsync(container, blob, head.Entry.ETag, hasRecord, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The probe's verdict on the bytes read. When they are only the start of a larger blob, "truncated" means
    /// "not enough read to judge", not a bad file: the worker's full decode decides. Every other verdict (foreign
    /// format, dimensions or frame count over the limits, malformed header) stands on the bytes that were read.
    /// </summary>
    private ImageRejection? Check(BlobHead head)
    {
        if (head.Entry.Size > decoder.Limits.MaxBytes)
        {
            return new ImageRejection(
                RejectionCode.TooManyBytes,
                $"The file is {head.Entry.Size} bytes, over the {decoder.Limits.MaxBytes}-byte limit.");
        }

        ImageProbeResult probe = decoder.Probe(head.Bytes.Span);
        if (probe.IsAccepted)
            return null;
        return !head.IsWhole && probe.Rejection.Code == RejectionCode.Truncated ? null : probe.Rejection;
    }

    private async Task<IngestResult> SendAsync(string container, IncomingBlob blob, string etag, bool? hasRecord, CancellationToken cancellationToken)
    {
        string messageId = PipelineNames.MessageId(container, blob.BlobName, etag);
        var request = new LabelRequest(
            blob.Batch,
            LabelRequest.IngestChunkPrefix + messageId[..16],
            container,
            [new LabelItem(blob.BlobName, etag, hasRecord)],
            time.GetUtcNow(),
            TraceParent: Activity.Current?.Id);
        var message = new OutgoingMessage(messageId, ContractSerializer.ToBinary(request), LabelRequest.Subject, CorrelationId: blob.Batch);
        await queues.GetQueue(messaging.Value.LabelQueue).SendAsync([message], cancellationToken).ConfigureAwait(false);
        LogQueued(logger, container, blob.BlobName, etag, messageId);
        return new IngestResult(IngestOutcome.Queued, blob, etag, messageId);
    }

    private async Task<IngestResult> RejectAsync(IncomingBlob blob, BlobHead head, string code, string reason, CancellationToken cancellationToken)
    {
        BlobEntry entry = head.Entry;

        // The hash identifies content only when all of it was read; an empty hash says "not computed".
        string sha256 = head.IsWhole ? Convert.ToHexStringLower(SHA256.HashData(head.Bytes.Span)) : string.Empty;
        var identity = new ImageIdentity(entry.Container, entry.Name, entry.ETag, sha256, entry.Size);
        var record = new RejectedRecord(blob.Batch, identity, code, reason, time.GetUtcNow());

        // A record of this same upload is a repeat; one of an older version gives way; a racing ingest's verdict stands.
        var (outcome, previous) = await RejectedRecords.WriteAsync(store, blob.RecordName, record, cancellationToken).ConfigureAwait(false);
        switch (outcome)
        {
            case RejectedWriteOutcome.AlreadyCurrent:
                return new IngestResult(IngestOutcome.AlreadyRejected, blob, entry.ETag, Code: previous!.Code, Reason: previous.Reason);
            case RejectedWriteOutcome.LostRace:
                return new IngestResult(IngestOutcome.AlreadyRejected, blob, entry.ETag, Code: code, Reason: reason);
            default:
                LogRejected(logger, entry.Container, entry.Name, code, reason);
                return new IngestResult(IngestOutcome.Rejected, blob, entry.ETag, Code: code, Reason: reason);
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Queued {Container}/{Name} ({ETag}) for labeling as message {MessageId}")]
    private static partial void LogQueued(ILogger logger, string container, string name, string etag, string messageId);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Rejected {Container}/{Name}: {Code}: {Reason}")]
    private static partial void LogRejected(ILogger logger, string container, string name, string code, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Upload {Container}/{Name} no longer exists; nothing to ingest")]
    private static partial void LogVanished(ILogger logger, string container, string name);
}
