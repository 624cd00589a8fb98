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

/// <summary>An upload seen in a listing, and whether the lister found no label or rejected record of any version for it (false) or does not know (null).</summary>
public sealed record ListedUpload(BlobEntry Entry, bool? HasRecord = null);

/// <summary>What <see cref="UploadIngestor"/> did with one upload.</summary>
public sealed record IngestResult(
    IngestOutcome Outcome,
    IncomingBlob Blob,
    string? ETag = null,
    string? MessageId = null,
    string? Code = null,
    string? Reason = null);

/// <summary>
/// Checks an uploaded blob cheaply and hands it on: a <see cref="LabelRequest"/> on the label queue when its header
/// passes <see cref="ImageDecoder.Probe"/> (of one image for an upload event; of up to
/// <see cref="IngestOptions.SweepImagesPerMessage"/> for the uploads of one sweep), a rejected record otherwise. Only
/// the first <see cref="IngestOptions.HeadBytes"/> are read, so a bomb is refused without being downloaded. Idempotent:
/// the MessageId is a hash of the container and each image's name and ETag, so a repeated event is dropped by
/// duplicate detection (the worker finds the images of any other repeat labeled), and the rejected record is written
/// create-if-absent. Used by the upload trigger, the sweep and the local pipeline.
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

    /// <summary>
    /// Ingests uploads seen in one listing together: each is checked as <see cref="IngestAsync(BlobEntry, bool?, CancellationToken)"/>
    /// checks it (<see cref="IngestOptions.SweepParallelism"/> at once), and those that pass are sent in as few messages as
    /// fit: one <see cref="LabelRequest"/> per batch for up to <see cref="IngestOptions.SweepImagesPerMessage"/> images and
    /// <see cref="LabelRequest.MaxInlineBodyBytes"/> of body. On a Storage Queue each message is a send, a receive share and a
    /// delete, so an upload costs a thirty-second of them instead of three. The results come in the order of
    /// <paramref name="uploads"/>; each queued one names the message that carries it.
    /// </summary>
    public async Task<IReadOnlyList<IngestResult>> IngestListedAsync(IReadOnlyList<ListedUpload> uploads, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uploads);
        var results = new IngestResult?[uploads.Count];
        var accepted = new Accepted?[uploads.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, uploads.Count),
            new ParallelOptions { MaxDegreeOfParallelism = settings.SweepParallelism, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                BlobEntry listed = uploads[i].Entry;
                var (done, blob, etag) = await CheckAsync(listed.Container, listed.Name, listed, ct).ConfigureAwait(false);
                if (done is not null)
                    results[i] = done;
                else
                    accepted[i] = new Accepted(i, listed.Container, blob, etag!, uploads[i].HasRecord);
            }).ConfigureAwait(false);

        // One time for every request of this call, so the body the packing measures is the body sent.
        DateTimeOffset requestedAt = time.GetUtcNow();
        var messages = new List<OutgoingMessage>();
        var carried = new List<(IReadOnlyList<Accepted> Items, string MessageId)>();
        foreach (var group in accepted.OfType<Accepted>().GroupBy(a => (a.Container, a.Blob.Batch)))
        {
            foreach (IReadOnlyList<Accepted> items in Pack(group.Key.Container, group.Key.Batch, requestedAt, settings.SweepImagesPerMessage, [.. group]))
            {
                var (message, messageId) = Message(group.Key.Container, group.Key.Batch, requestedAt, items);
                messages.Add(message);
                carried.Add((items, messageId));
            }
        }

        if (messages.Count > 0)
            await queues.GetQueue(messaging.Value.LabelQueue).SendAsync(messages, cancellationToken).ConfigureAwait(false);
        foreach (var (items, messageId) in carried)
        {
            if (items.Count == 1)
                LogQueued(logger, items[0].Container, items[0].Blob.BlobName, items[0].ETag, messageId);
            else
                LogQueuedMany(logger, items.Count, items[0].Container, items[0].Blob.Batch, messageId);
            foreach (Accepted item in items)
                results[item.Index] = new IngestResult(IngestOutcome.Queued, item.Blob, item.ETag, messageId);
        }

        return [.. results.Select(r => r!)];
    }

    private async Task<IngestResult> IngestAsync(string container, string name, BlobEntry? listed, bool? hasRecord, CancellationToken cancellationToken)
    {
        var (done, blob, etag) = await CheckAsync(container, name, listed, cancellationToken).ConfigureAwait(false);
        if (done is not null)
            return done;

        var (message, messageId) = Message(container, blob.Batch, time.GetUtcNow(), [new Accepted(0, container, blob, etag!, hasRecord)]);
        await queues.GetQueue(messaging.Value.LabelQueue).SendAsync([message], cancellationToken).ConfigureAwait(false);
        LogQueued(logger, container, blob.BlobName, etag!, messageId);
        return new IngestResult(IngestOutcome.Queued, blob, etag, messageId);
    }

    /// <summary>
    /// The upload's checks: a result when they end it (gone, or rejected and recorded as such), or the ETag of the
    /// version that passed them.
    /// </summary>
    private async Task<(IngestResult? Done, IncomingBlob Blob, string? ETag)> CheckAsync(
        string container, string name, BlobEntry? listed, CancellationToken cancellationToken)
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
            return (new IngestResult(IngestOutcome.Vanished, blob), blob, null);
        }

        if (!blob.IsValid)
            return (await RejectAsync(blob, head, InvalidLocationCode, $"Upload '{name}': {blob.LocationError}.", cancellationToken).ConfigureAwait(false), blob, null);

        if (Check(head) is { } rejection)
            return (await RejectAsync(blob, head, rejection.Code.ToString(), rejection.Reason, cancellationToken).ConfigureAwait(false), blob, null);

        return (null, blob, head.Entry.ETag);
    }

    /// <summary>An upload that passed its checks, at <see cref="Index"/> of the uploads given.</summary>
    private sealed record Accepted(int Index, string Container, IncomingBlob Blob, string ETag, bool? HasRecord)
    {
        public LabelItem Item => new(Blob.BlobName, ETag, HasRecord);
    }

    /// <summary>One batch's accepted uploads in runs that each fit one message, by count and by body size.</summary>
    private static IEnumerable<IReadOnlyList<Accepted>> Pack(string container, string batch, DateTimeOffset requestedAt, int imagesPerMessage, IReadOnlyList<Accepted> uploads)
    {
        // The body of a request with no items, then each item's JSON and its comma: exact, as the request is serialized.
        int empty = ContractSerializer.ToBinary(Request(container, batch, "ingest-0000000000000000", requestedAt, [])).ToMemory().Length;
        var run = new List<Accepted>();
        int bytes = empty;
        foreach (Accepted upload in uploads)
        {
            int itemBytes = JsonSerializer.SerializeToUtf8Bytes(upload.Item, ContractsJsonContext.Default.LabelItem).Length + 1;
            if (run.Count > 0 && (run.Count == imagesPerMessage || bytes + itemBytes > LabelRequest.MaxInlineBodyBytes))
            {
                yield return run;
                run = [];
                bytes = empty;
            }
            run.Add(upload);
            bytes += itemBytes;
        }
        if (run.Count > 0)
            yield return run;
    }

    /// <summary>
    /// The message for <paramref name="items"/>. Its MessageId hashes the container and each item's name and ETag, so a
    /// message for one upload has the id the upload trigger gives it (duplicate detection drops the second of the two).
    /// </summary>
    private static (OutgoingMessage Message, string MessageId) Message(string container, string batch, DateTimeOffset requestedAt, IReadOnlyList<Accepted> items)
    {
        string messageId = PipelineNames.MessageId([container, .. items.SelectMany(i => new[] { i.Blob.BlobName, i.ETag })]);
        LabelRequest request = Request(container, batch, LabelRequest.IngestChunkPrefix + messageId[..16], requestedAt, [.. items.Select(i => i.Item)]);
        return (new OutgoingMessage(messageId, ContractSerializer.ToBinary(request), LabelRequest.Subject, CorrelationId: batch), messageId);
    }

    private static LabelRequest Request(string container, string batch, string chunk, DateTimeOffset requestedAt, IReadOnlyList<LabelItem> items) =>
        new(batch, chunk, container, items, requestedAt, TraceParent: Activity.Current?.Id);

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

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Queued {Count} uploads of {Container}/{Batch} for labeling as message {MessageId}")]
    private static partial void LogQueuedMany(ILogger logger, int count, string container, string batch, string messageId);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Rejected {Container}/{Name}: {Code}: {Reason}")]
    private static partial void LogRejected(ILogger logger, string container, string name, string code, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Upload {Container}/{Name} no longer exists; nothing to ingest")]
    private static partial void LogVanished(ILogger logger, string container, string name);
}
