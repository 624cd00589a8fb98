using System.Text.Json;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Ingest;

/// <summary>What one sweep found and did.</summary>
/// <param name="Seen">Uploads listed.</param>
/// <param name="Recorded">Uploads that already have a label or rejected record for their current version.</param>
/// <param name="Incomplete">True when the sweep stopped at <see cref="IngestOptions.SweepMaxIngests"/>: the next one goes on.</param>
public sealed record SweepResult(int Seen, int Recorded, int Queued, int Rejected, int AlreadyRejected, int Vanished, bool Incomplete);

/// <summary>
/// The safety net under the upload events, which can be lost, repeated or late: lists the upload container and
/// ingests every upload that has neither a label record nor a rejected record for its current ETag. Records are
/// found by listing <c>labels/&lt;batch&gt;/</c> and <c>rejected/&lt;batch&gt;/</c> once per batch, so a sweep over a
/// labeled container costs listings, not one read per image. Each run ingests at most
/// <see cref="IngestOptions.SweepMaxIngests"/> uploads and the next run goes on after the last of them; ingesting is
/// idempotent, so an upload whose event is still on its way is only sent twice under the same MessageId. Register it
/// as a singleton: the place to go on from lives in the instance.
/// </summary>
public sealed partial class IngestSweeper(
    IBlobStore store,
    UploadIngestor ingestor,
    IOptions<IngestOptions> options,
    ILogger<IngestSweeper> logger)
{
    private static readonly string[] RecordContainers = [LabelPaths.LabelsContainer, LabelPaths.RejectedContainer];

    private readonly IngestOptions settings = options.Value;

    // Where the last incomplete sweep stopped; in memory only, so a restart begins at the start again.
    private string? resumeAfter;

    public async Task<SweepResult> SweepAsync(CancellationToken cancellationToken = default)
    {
        int seen = 0, recorded = 0, limit = settings.SweepMaxIngests;
        string? cursor = resumeAfter;
        var after = new List<BlobEntry>();
        var before = new List<BlobEntry>();
        bool incomplete = false;
        var indexes = new RecordIndexes(store);
        await foreach (BlobEntry entry in store.ListAsync(settings.Container, null, cancellationToken).ConfigureAwait(false))
        {
            seen++;
            var blob = IncomingBlob.Parse(entry.Name);
            if (await HasRecordAsync(indexes, blob, entry, cancellationToken).ConfigureAwait(false))
            {
                recorded++;
                continue;
            }

            List<BlobEntry> side = cursor is not null && string.CompareOrdinal(entry.Name, cursor) <= 0 ? before : after;
            if (side.Count == limit)
            {
                incomplete = true;

                // Names come in order: once the part after the cursor is full, nothing later can join this sweep.
                if (side == after)
                    break;
                continue;
            }

            side.Add(entry);
        }

        // Uploads after the cursor first, then from the start again: a sweep that stops at its bound never
        // starves the uploads beyond it, even while the worker has not yet labeled the ones it sent last time.
        List<BlobEntry> pending = [.. after, .. before.Take(limit - after.Count)];
        incomplete |= after.Count + before.Count > pending.Count;
        resumeAfter = incomplete && pending.Count > 0 ? pending[^1].Name : null;

        var outcomes = new IngestOutcome[pending.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, pending.Count),
            new ParallelOptions { MaxDegreeOfParallelism = settings.SweepParallelism, CancellationToken = cancellationToken },
            async (i, ct) => outcomes[i] = (await ingestor.IngestAsync(pending[i], ct).ConfigureAwait(false)).Outcome)
            .ConfigureAwait(false);

        var result = new SweepResult(
            seen,
            recorded,
            outcomes.Count(o => o == IngestOutcome.Queued),
            outcomes.Count(o => o == IngestOutcome.Rejected),
            outcomes.Count(o => o == IngestOutcome.AlreadyRejected),
            outcomes.Count(o => o == IngestOutcome.Vanished),
            incomplete);
        LogSwept(logger, settings.Container, result.Seen, result.Recorded, result.Queued, result.Rejected, result.Incomplete);
        return result;
    }

    private async Task<bool> HasRecordAsync(RecordIndexes indexes, IncomingBlob blob, BlobEntry upload, CancellationToken cancellationToken)
    {
        foreach (string container in RecordContainers)
        {
            IReadOnlyDictionary<string, DateTimeOffset> index = await indexes.GetAsync(container, blob.Batch, cancellationToken).ConfigureAwait(false);
            if (!index.TryGetValue(blob.RecordName, out DateTimeOffset written) || written < upload.LastModified)
                continue; // no record, or one written before this version of the upload existed
            if (written - upload.LastModified >= settings.RecordSettleTime)
                return true;
            if (await RecordETagAsync(container, blob.RecordName, cancellationToken).ConfigureAwait(false) == upload.ETag)
                return true;
        }

        return false;
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

    /// <summary>
    /// The record names of one batch and when each was written. Uploads are listed in name order, so one batch's
    /// uploads come together and only the current batch's indexes (and the unbatched one) are kept.
    /// </summary>
    private sealed class RecordIndexes(IBlobStore store)
    {
        private readonly Dictionary<(string Container, string Batch), Dictionary<string, DateTimeOffset>> loaded = [];

        public async ValueTask<IReadOnlyDictionary<string, DateTimeOffset>> GetAsync(string container, string batch, CancellationToken cancellationToken)
        {
            if (loaded.TryGetValue((container, batch), out var index))
                return index;
            foreach (var key in loaded.Keys.Where(k => k.Batch != batch && k.Batch != IncomingBlob.UnbatchedBatch).ToList())
                loaded.Remove(key);

            index = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            await foreach (BlobEntry entry in store.ListAsync(container, batch + "/", cancellationToken).ConfigureAwait(false))
                index[entry.Name] = entry.LastModified;
            loaded[(container, batch)] = index;
            return index;
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Swept {Container}: {Seen} uploads, {Recorded} already recorded, {Queued} queued, {Rejected} rejected, incomplete: {Incomplete}")]
    private static partial void LogSwept(ILogger logger, string container, int seen, int recorded, int queued, int rejected, bool incomplete);
}
