using System.Text.Json;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Pipeline.Labeling;

/// <summary>What writing a rejected record did.</summary>
public enum RejectedWriteOutcome
{
    /// <summary>No record existed; this one was created.</summary>
    Created,

    /// <summary>A record of an older upload (or an unreadable one) was replaced by this one.</summary>
    Replaced,

    /// <summary>A record of this very upload (same ETag) was there already and stands.</summary>
    AlreadyCurrent,

    /// <summary>Another writer replaced the record between our read and our write; its verdict is as recent as ours.</summary>
    LostRace,
}

/// <summary>
/// Writes <c>rejected/&lt;batch&gt;/&lt;path&gt;.json</c> for the ingest check and the labeling engine alike. The record
/// must name the current upload: the ingest sweep looks for a record of the upload's current ETag, and sends an upload
/// without one to the worker again on every pass (also when the same broken bytes were uploaded again).
/// </summary>
public static class RejectedRecords
{
    /// <summary>Rejection code for an upload whose name puts it outside any batch or cannot be used as a blob name.</summary>
    public const string InvalidLocationCode = "InvalidLocation";

    public static async Task<(RejectedWriteOutcome Outcome, RejectedRecord? Previous)> WriteAsync(
        IBlobStore store, string name, RejectedRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(record);
        var content = BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(record, LabelJsonContext.Default.RejectedRecord));
        var metadata = LabelPaths.RecordMetadata(record.Image.ETag);
        if (await store.CreateIfAbsentAsync(LabelPaths.RejectedContainer, name, content, "application/json", metadata, cancellationToken).ConfigureAwait(false) == CreateOutcome.Created)
            return (RejectedWriteOutcome.Created, null);

        BlobDownload? existing = await store.DownloadAsync(LabelPaths.RejectedContainer, name, cancellationToken).ConfigureAwait(false);
        RejectedRecord? previous = existing is null ? null : Read(existing.Content);
        if (previous is not null && previous.Image.ETag == record.Image.ETag)
            return (RejectedWriteOutcome.AlreadyCurrent, previous);
        try
        {
            if (existing is null)
            {
                // Deleted between the two calls: create again, and a writer that got in first wins.
                return await store.CreateIfAbsentAsync(LabelPaths.RejectedContainer, name, content, "application/json", metadata, cancellationToken).ConfigureAwait(false) == CreateOutcome.Created
                    ? (RejectedWriteOutcome.Created, null)
                    : (RejectedWriteOutcome.LostRace, null);
            }
            await store.UploadAsync(LabelPaths.RejectedContainer, name, content, "application/json", existing.Entry.ETag, cancellationToken).ConfigureAwait(false);
            return (RejectedWriteOutcome.Replaced, previous);
        }
        catch (BlobConflictException)
        {
            return (RejectedWriteOutcome.LostRace, previous);
        }
    }

    /// <summary>The rejected record of that name, or null when there is none (or it is unreadable).</summary>
    public static async Task<RejectedRecord?> ReadAsync(IBlobStore store, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        BlobDownload? download = await store.DownloadAsync(LabelPaths.RejectedContainer, name, cancellationToken).ConfigureAwait(false);
        return download is null ? null : Read(download.Content);
    }

    private static RejectedRecord? Read(BinaryData content)
    {
        try
        {
            return JsonSerializer.Deserialize(content.ToMemory().Span, LabelJsonContext.Default.RejectedRecord);
        }
        catch (JsonException)
        {
            return null; // an unreadable record is replaced like an outdated one
        }
    }
}
