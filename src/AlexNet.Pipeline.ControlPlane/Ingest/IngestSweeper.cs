using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Ingest;

/// <summary>What one sweep found and did.</summary>
/// <param name="Seen">Uploads listed.</param>
/// <param name="Recorded">Uploads that already have a label or rejected record for their current version.</param>
/// <param name="Incomplete">True when the sweep stopped at <see cref="IngestOptions.SweepMaxIngests"/>: the next one goes on.</param>
/// <param name="Waiting">Uploads still without a record that this sweeper queued within <c>Ingest:RequeueAfter</c>: not queued again.</param>
public sealed record SweepResult(int Seen, int Recorded, int Queued, int Rejected, int AlreadyRejected, int Vanished, bool Incomplete, int Waiting = 0);

/// <summary>
/// The safety net under the upload events, which can be lost, repeated or late: finds uploads that have neither a
/// label record nor a rejected record for their current ETag, and ingests them. Its cost follows what is new:
/// <list type="bullet">
/// <item>Each folder (batch) of the upload container has a <em>watermark</em>, kept in storage
/// (<c>runs/@ingest/&lt;container&gt;.json</c>): every upload in it last modified at or before the watermark is known to
/// have its record, so a sweep passes it by its listing entry alone, without looking for records. A watermark moves
/// only after a complete listing of its folder, never past an upload still without a record, and stays
/// <see cref="IngestOptions.WatermarkMargin"/> behind the listing's start (a blob committed during a listing).</item>
/// <item>Between reconciliations a sweep lists the container's first level (one request per 5,000 folders) and only
/// the folders it has not seen before and those that changed within <see cref="IngestOptions.ActiveFolderWindow"/>.
/// Uploads above the watermark that were found recorded are remembered in memory, so an active folder costs one
/// listing per sweep, not a record look-up per upload.</item>
/// <item>Every <see cref="IngestOptions.ReconcileInterval"/> a sweep lists the whole container (a reconciliation): an
/// upload into a folder that had gone quiet, whose event was lost, is found then. The time of the last complete
/// reconciliation is kept with the watermarks, so a restarted host does not start with one.</item>
/// </list>
/// Records are found by listing <c>labels/&lt;batch&gt;/</c> and <c>rejected/&lt;batch&gt;/</c> once per batch, with their
/// metadata, and only for a batch that has an upload above its watermark not yet known to be recorded. A record created
/// with the ETag of the upload version it covers in its metadata (<see cref="LabelPaths.ImageETagMetadata"/>) is
/// judged by its listing entry alone; only a record without it, written within <see cref="IngestOptions.RecordSettleTime"/>
/// after the upload, is read. Each run ingests at most
/// <see cref="IngestOptions.SweepMaxIngests"/> uploads and the next run goes on after the last of them; ingesting is
/// idempotent, so an upload whose event is still on its way is only sent twice under the same MessageId. Runs of one
/// instance take turns; register it as a singleton.
/// </summary>
public sealed partial class IngestSweeper(
    IBlobStore store,
    UploadIngestor ingestor,
    IOptions<IngestOptions> options,
    TimeProvider time,
    ILogger<IngestSweeper> logger) : IDisposable
{
    /// <summary>Folder of the <c>runs</c> container that holds each upload container's sweep state; no batch id has an <c>@</c>.</summary>
    public const string StateFolder = "@ingest/";

    private static readonly string[] RecordContainers = [LabelPaths.LabelsContainer, LabelPaths.RejectedContainer];

    private readonly IngestOptions settings = options.Value;
    private readonly SemaphoreSlim oneAtATime = new(1, 1);

    // Uploads above their folder's watermark found recorded, by name: their ETag and when they were last modified.
    private readonly Dictionary<string, (string ETag, DateTimeOffset LastModified)> recordedAbove = new(StringComparer.Ordinal);

    // Uploads this sweeper queued and that had no record since, by name: the ETag queued and when (Ingest:RequeueAfter).
    private readonly Dictionary<string, (string ETag, DateTimeOffset QueuedAt)> queuedRecently = new(StringComparer.Ordinal);

    // The state as last read or written, and the ETag of that version of its blob.
    private SweepState? state;
    private string? stateETag;

    // Where the last incomplete sweep stopped; in memory only, so a restart begins at the start again.
    private string? resumeAfter;

    /// <summary>The blob of the <c>runs</c> container that holds this container's watermarks.</summary>
    public string StateBlob => StateFolder + settings.Container + ".json";

    /// <summary>True when the last sweep listed the whole container.</summary>
    public bool LastSweepReconciled { get; private set; }

    public async Task<SweepResult> SweepAsync(CancellationToken cancellationToken = default)
    {
        await oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await SweepOnceAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            oneAtATime.Release();
        }
    }

    public void Dispose() => oneAtATime.Dispose();

    private async Task<SweepResult> SweepOnceAsync(CancellationToken cancellationToken)
    {
        DateTimeOffset now = time.GetUtcNow();
        SweepState current = await LoadStateAsync(cancellationToken).ConfigureAwait(false);
        bool reconcile = current.ReconciledAt is not { } reconciledAt || now - reconciledAt >= settings.ReconcileInterval;
        LastSweepReconciled = reconcile;
        DateTimeOffset candidate = now - settings.WatermarkMargin;

        int seen = 0, recorded = 0, waiting = 0, limit = settings.SweepMaxIngests;
        foreach (var (name, sent) in queuedRecently.ToList())
        {
            if (now - sent.QueuedAt >= settings.RequeueAfter)
                queuedRecently.Remove(name);
        }
        string? cursor = resumeAfter;
        var after = new List<BlobEntry>();
        var before = new List<BlobEntry>();
        bool incomplete = false;
        string? cutFolder = null;
        var indexes = new RecordIndexes(store);
        // Pending uploads with no record of any version: their messages say so, and the worker skips its two look-ups.
        var withoutRecord = new HashSet<string>(StringComparer.Ordinal);
        var scans = new Dictionary<string, FolderScan>(StringComparer.Ordinal);
        IAsyncEnumerable<BlobEntry> entries = reconcile
            ? store.ListAsync(settings.Container, null, cancellationToken)
            : ListNewAndActiveAsync(current, now, cancellationToken);
        await foreach (BlobEntry entry in entries.ConfigureAwait(false))
        {
            seen++;
            string folder = FolderOf(entry.Name);
            if (!scans.TryGetValue(folder, out FolderScan? scan))
            {
                scan = new FolderScan(current.Folders.GetValueOrDefault(folder));
                scans[folder] = scan;
            }

            if (entry.LastModified <= scan.Watermark)
            {
                recorded++;
                continue;
            }

            if (recordedAbove.TryGetValue(entry.Name, out var known) && known.ETag == entry.ETag)
            {
                recorded++;
                scan.Recorded(entry.LastModified);
                continue;
            }

            scan.Changed = true;
            var blob = IncomingBlob.Parse(entry.Name);
            RecordState recordState = await RecordStateAsync(indexes, blob, entry, cancellationToken).ConfigureAwait(false);
            if (recordState == RecordState.Current)
            {
                recorded++;
                queuedRecently.Remove(entry.Name);
                recordedAbove[entry.Name] = (entry.ETag, entry.LastModified);
                scan.Recorded(entry.LastModified);
                continue;
            }
            if (recordState == RecordState.None)
                withoutRecord.Add(entry.Name);

            scan.Unrecorded(entry.LastModified);
            if (queuedRecently.TryGetValue(entry.Name, out var queued) && queued.ETag == entry.ETag)
            {
                // Queued by an earlier sweep within Ingest:RequeueAfter and not labeled yet: its message is on its way.
                waiting++;
                continue;
            }
            List<BlobEntry> side = cursor is not null && string.CompareOrdinal(entry.Name, cursor) <= 0 ? before : after;
            if (side.Count == limit)
            {
                incomplete = true;

                // Names come in order: once the part after the cursor is full, nothing later can join this sweep.
                if (side == after)
                {
                    cutFolder = folder;
                    break;
                }

                continue;
            }

            side.Add(entry);
        }

        // Uploads after the cursor first, then from the start again: a sweep that stops at its bound never
        // starves the uploads beyond it, even while the worker has not yet labeled the ones it sent last time.
        List<BlobEntry> pending = [.. after, .. before.Take(limit - after.Count)];
        incomplete |= after.Count + before.Count > pending.Count;
        resumeAfter = incomplete && pending.Count > 0 ? pending[^1].Name : null;

        // In slices, so the first messages go out while later uploads are still being checked.
        var outcomes = new IngestOutcome[pending.Count];
        int slice = settings.SweepImagesPerMessage * settings.SweepParallelism;
        for (int start = 0; start < pending.Count; start += slice)
        {
            List<ListedUpload> uploads = [.. pending.Skip(start).Take(slice).Select(p => new ListedUpload(p, withoutRecord.Contains(p.Name) ? false : null))];
            IReadOnlyList<IngestResult> results = await ingestor.IngestListedAsync(uploads, cancellationToken).ConfigureAwait(false);
            for (int i = 0; i < results.Count; i++)
                outcomes[start + i] = results[i].Outcome;
        }
        for (int i = 0; i < pending.Count; i++)
        {
            // A rejected record now exists for this version: the upload is recorded.
            if (outcomes[i] is IngestOutcome.Rejected or IngestOutcome.AlreadyRejected)
                recordedAbove[pending[i].Name] = (pending[i].ETag, pending[i].LastModified);
            else if (outcomes[i] is IngestOutcome.Queued)
                queuedRecently[pending[i].Name] = (pending[i].ETag, now);
        }

        await SaveStateAsync(current, Advance(current, scans, cutFolder, candidate, now, reconcile && cutFolder is null), cancellationToken).ConfigureAwait(false);

        var result = new SweepResult(
            seen,
            recorded,
            outcomes.Count(o => o == IngestOutcome.Queued),
            outcomes.Count(o => o == IngestOutcome.Rejected),
            outcomes.Count(o => o == IngestOutcome.AlreadyRejected),
            outcomes.Count(o => o == IngestOutcome.Vanished),
            incomplete,
            waiting);
        LogSwept(logger, settings.Container, reconcile, result.Seen, result.Recorded, result.Queued, result.Rejected, result.Incomplete);
        return result;
    }

    /// <summary>
    /// The uploads at the container's top level (they have no folder: each is rejected once, then recorded) and those of
    /// the folders not seen before or active, in name order.
    /// </summary>
    private async IAsyncEnumerable<BlobEntry> ListNewAndActiveAsync(SweepState current, DateTimeOffset now, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var items = new List<BlobTopLevelItem>();
        await foreach (BlobTopLevelItem item in store.ListTopLevelAsync(settings.Container, cancellationToken).ConfigureAwait(false))
            items.Add(item);

        // In name order, as a full listing would give them: the bound's cursor depends on it.
        items.Sort(static (a, b) => string.CompareOrdinal(a.Folder ?? a.Blob!.Name, b.Folder ?? b.Blob!.Name));
        foreach (BlobTopLevelItem item in items)
        {
            if (item.Blob is { } top)
            {
                yield return top;
                continue;
            }

            string folder = item.Folder!;
            if (current.Folders.TryGetValue(folder, out FolderState? known) && known.ActiveUntil <= now)
                continue;
            await foreach (BlobEntry entry in store.ListAsync(settings.Container, folder, cancellationToken).ConfigureAwait(false))
                yield return entry;
        }
    }

    /// <summary>
    /// The state after this sweep: watermarks moved for the folders listed whole, active windows opened where something
    /// changed, and after a complete reconciliation its time, with the folders that no longer exist dropped.
    /// </summary>
    private SweepState Advance(SweepState current, Dictionary<string, FolderScan> scans, string? cutFolder, DateTimeOffset candidate, DateTimeOffset now, bool reconciled)
    {
        var folders = new Dictionary<string, FolderState>(reconciled ? [] : current.Folders, StringComparer.Ordinal);
        foreach (var (folder, scan) in scans)
        {
            FolderState? previous = current.Folders.GetValueOrDefault(folder);
            DateTimeOffset watermark = folder == cutFolder ? scan.Watermark : scan.NextWatermark(candidate);
            DateTimeOffset activeUntil = scan.Changed || previous is null ? now + settings.ActiveFolderWindow : previous.ActiveUntil;
            folders[folder] = new FolderState(watermark, activeUntil);
        }

        // The uploads the new watermarks cover, or whose folder is gone, need no memory of their own any more.
        foreach (var (name, known) in recordedAbove.ToList())
        {
            if (!folders.TryGetValue(FolderOf(name), out FolderState? folder) || known.LastModified <= folder.Watermark)
                recordedAbove.Remove(name);
        }

        return new SweepState(reconciled ? now : current.ReconciledAt, folders);
    }

    /// <summary>The folder an upload sits in, with its trailing <c>/</c>; empty at the top level.</summary>
    private static string FolderOf(string name)
    {
        int slash = name.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? string.Empty : name[..(slash + 1)];
    }

    private async Task<SweepState> LoadStateAsync(CancellationToken cancellationToken)
    {
        BlobEntry? entry = await store.GetEntryAsync(PipelineNames.RunsContainer, StateBlob, cancellationToken).ConfigureAwait(false);
        if (entry is null)
        {
            (state, stateETag) = (null, null);
            return SweepState.Empty;
        }

        if (state is not null && entry.ETag == stateETag)
            return state;
        BlobDownload? download = await store.DownloadAsync(PipelineNames.RunsContainer, StateBlob, cancellationToken).ConfigureAwait(false);
        if (download is null)
        {
            (state, stateETag) = (null, null);
            return SweepState.Empty;
        }

        try
        {
            state = JsonSerializer.Deserialize(download.Content.ToMemory().Span, IngestJsonContext.Default.SweepState) ?? SweepState.Empty;
        }
        catch (JsonException e)
        {
            // An unreadable state only costs a reconciliation: it is written again after this sweep.
            LogUnreadableState(logger, StateBlob, e.Message);
            state = SweepState.Empty;
        }

        stateETag = download.Entry.ETag;
        return state;
    }

    private async Task SaveStateAsync(SweepState current, SweepState next, CancellationToken cancellationToken)
    {
        if (next.SameAs(current) && stateETag is not null)
            return;
        try
        {
            BinaryData content = BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(next, IngestJsonContext.Default.SweepState));
            stateETag = await store.UploadAsync(PipelineNames.RunsContainer, StateBlob, content, "application/json", stateETag, cancellationToken).ConfigureAwait(false);
            state = next;
        }
        catch (BlobConflictException)
        {
            // Another sweeper wrote it since it was read: its version stands and is read on the next sweep. Nothing is
            // lost by dropping this one: a watermark left behind only costs look-ups, and the next reconciliation
            // finds whatever a folder left out of the active ones holds.
            (state, stateETag) = (null, null);
        }
    }

    /// <summary>Whether an upload's current version has a label or rejected record, another version has one, or it has none.</summary>
    private enum RecordState
    {
        None,
        OtherVersion,
        Current,
    }

    private async Task<RecordState> RecordStateAsync(RecordIndexes indexes, IncomingBlob blob, BlobEntry upload, CancellationToken cancellationToken)
    {
        RecordState state = RecordState.None;
        foreach (string container in RecordContainers)
        {
            IReadOnlyDictionary<string, ListedRecord> index = await indexes.GetAsync(container, blob.Batch, cancellationToken).ConfigureAwait(false);
            if (!index.TryGetValue(blob.RecordName, out ListedRecord record))
                continue;
            state = RecordState.OtherVersion;
            DateTimeOffset written = record.Written;
            if (written < upload.LastModified)
                continue; // written before this version of the upload existed
            if (record.ImageETag is { } covered)
            {
                // Created with the version it covers, in the same request as its content: no need to read it.
                if (covered == upload.ETag)
                    return RecordState.Current;
                continue;
            }
            if (written - upload.LastModified >= settings.RecordSettleTime)
                return RecordState.Current;
            if (await RecordETagAsync(container, blob.RecordName, cancellationToken).ConfigureAwait(false) == upload.ETag)
                return RecordState.Current;
        }

        return state;
    }

    private async Task<string?> RecordETagAsync(string container, string name, CancellationToken cancellationToken)
    {
        BlobDownload? download = await store.DownloadAsync(container, name, cancellationToken).ConfigureAwait(false);
        if (download is null)
            return null;
        try
        {
            ReadOnlySpan<byte> json = download.Content.ToMemory().Span;
            ImageIdentity? image = container == LabelPaths.LabelsContainer
                ? JsonSerializer.Deserialize(json, LabelJsonContext.Default.LabelRecord)?.Image
                : JsonSerializer.Deserialize(json, LabelJsonContext.Default.RejectedRecord)?.Image;
            return image?.ETag;
        }
        catch (JsonException)
        {
            return null; // an unreadable record covers nothing
        }
    }

    /// <summary>A record as its listing shows it: when it was written, and the upload ETag its metadata names, if any.</summary>
    private readonly record struct ListedRecord(DateTimeOffset Written, string? ImageETag);

    /// <summary>
    /// The records of one batch, listed with their metadata (the same requests as without). Uploads are listed in name
    /// order, so one batch's uploads come together and only the current batch's indexes (and the unbatched one) are kept.
    /// </summary>
    private sealed class RecordIndexes(IBlobStore store)
    {
        private readonly Dictionary<(string Container, string Batch), Dictionary<string, ListedRecord>> loaded = [];

        public async ValueTask<IReadOnlyDictionary<string, ListedRecord>> GetAsync(string container, string batch, CancellationToken cancellationToken)
        {
            if (loaded.TryGetValue((container, batch), out var index))
                return index;
            foreach (var key in loaded.Keys.Where(k => k.Batch != batch && k.Batch != IncomingBlob.UnbatchedBatch).ToList())
                loaded.Remove(key);

            index = new Dictionary<string, ListedRecord>(StringComparer.Ordinal);
            await foreach (BlobEntry entry in store.ListAsync(container, batch + "/", includeMetadata: true, cancellationToken).ConfigureAwait(false))
                index[entry.Name] = new ListedRecord(entry.LastModified, entry.Metadata?.GetValueOrDefault(LabelPaths.ImageETagMetadata) is { Length: > 0 } etag ? etag : null);
            loaded[(container, batch)] = index;
            return index;
        }
    }

    /// <summary>What one sweep learned about one folder.</summary>
    private sealed class FolderScan(FolderState? known)
    {
        private DateTimeOffset? firstUnrecorded;
        private DateTimeOffset? lastRecorded;

        public DateTimeOffset Watermark { get; } = known?.Watermark ?? DateTimeOffset.MinValue;

        /// <summary>An upload above the watermark was new to this instance, or still has no record.</summary>
        public bool Changed { get; set; }

        public void Recorded(DateTimeOffset lastModified)
        {
            if (lastRecorded is null || lastModified > lastRecorded)
                lastRecorded = lastModified;
        }

        public void Unrecorded(DateTimeOffset lastModified)
        {
            if (firstUnrecorded is null || lastModified < firstUnrecorded)
                firstUnrecorded = lastModified;
        }

        /// <summary>
        /// After a complete listing: as far as <paramref name="candidate"/> (the listing's start less the margin), short of
        /// the oldest upload without a record; and when every upload is recorded, no further than the newest of them, so
        /// that a quiet folder's watermark stops moving.
        /// </summary>
        public DateTimeOffset NextWatermark(DateTimeOffset candidate)
        {
            DateTimeOffset next = firstUnrecorded is { } first
                ? Min(candidate, first - TimeSpan.FromTicks(1))
                : Min(candidate, lastRecorded ?? Watermark);
            return next > Watermark ? next : Watermark;
        }

        private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Swept {Container} (reconciliation: {Reconciled}): {Seen} uploads listed, {Recorded} recorded, {Queued} queued, {Rejected} rejected, incomplete: {Incomplete}")]
    private static partial void LogSwept(ILogger logger, string container, bool reconciled, int seen, int recorded, int queued, int rejected, bool incomplete);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "The ingest sweep's state {Blob} could not be read ({Reason}); this sweep reconciles and writes it again")]
    private static partial void LogUnreadableState(ILogger logger, string blob, string reason);
}

/// <summary>An ingest sweep's state for one upload container, kept in storage between sweeps and across hosts.</summary>
/// <param name="ReconciledAt">When the last complete listing of the container ended; null before the first.</param>
/// <param name="Folders">By folder name with its trailing <c>/</c> (empty for the top level).</param>
internal sealed record SweepState(DateTimeOffset? ReconciledAt, Dictionary<string, FolderState> Folders)
{
    public static SweepState Empty => new(null, new Dictionary<string, FolderState>(StringComparer.Ordinal));

    public bool SameAs(SweepState other) =>
        ReconciledAt == other.ReconciledAt
        && Folders.Count == other.Folders.Count
        && Folders.All(f => other.Folders.TryGetValue(f.Key, out FolderState? o) && o == f.Value);
}

/// <param name="Watermark">Every upload of the folder last modified at or before it has a record for that version.</param>
/// <param name="ActiveUntil">Until when sweeps between reconciliations list the folder.</param>
internal sealed record FolderState(DateTimeOffset Watermark, DateTimeOffset ActiveUntil);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(SweepState))]
internal sealed partial class IngestJsonContext : JsonSerializerContext;
