using System.Runtime.CompilerServices;

namespace AlexNet.Pipeline.Storage;

/// <summary>
/// Blob storage as the pipeline uses it: containers of named blobs, conditional writes for idempotence and
/// optimistic concurrency, and index tags for lookups. Names may contain <c>/</c> to form folders.
/// </summary>
public interface IBlobStore
{
    /// <summary>Lists the blobs whose names start with <paramref name="prefix"/> (all when null), in name order, without their metadata.</summary>
    IAsyncEnumerable<BlobEntry> ListAsync(string container, string? prefix = null, CancellationToken cancellationToken = default) =>
        ListAsync(container, prefix, includeMetadata: false, cancellationToken);

    /// <summary>
    /// Lists the blobs whose names start with <paramref name="prefix"/> (all when null), in name order. With
    /// <paramref name="includeMetadata"/> each entry carries the blob's metadata (<see cref="BlobEntry.Metadata"/>, empty
    /// when it has none) from the same listing requests; without it <see cref="BlobEntry.Metadata"/> is null.
    /// </summary>
    IAsyncEnumerable<BlobEntry> ListAsync(string container, string? prefix, bool includeMetadata, CancellationToken cancellationToken = default);

    /// <summary>
    /// The container's first level: each folder once (<see cref="BlobTopLevelItem.Folder"/>, the name up to and including
    /// its first <c>/</c>) and each blob whose name has no <c>/</c>, in no promised order (Azurite lists the folders
    /// first). This default walks the whole listing; the Azure store asks for a listing by hierarchy, one request per
    /// 5,000 folders and blobs.
    /// </summary>
    async IAsyncEnumerable<BlobTopLevelItem> ListTopLevelAsync(string container, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? folder = null;
        await foreach (BlobEntry entry in ListAsync(container, null, cancellationToken).ConfigureAwait(false))
        {
            int slash = entry.Name.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0)
            {
                yield return new BlobTopLevelItem(null, entry);
                continue;
            }

            // The names under one folder come together in name order.
            string name = entry.Name[..(slash + 1)];
            if (name == folder)
                continue;
            folder = name;
            yield return new BlobTopLevelItem(folder, null);
        }
    }

    /// <summary>Returns the blob's entry, or null when it (or its container) does not exist.</summary>
    Task<BlobEntry?> GetEntryAsync(string container, string name, CancellationToken cancellationToken = default);

    /// <summary>Returns the blob's content and entry, or null when it (or its container) does not exist.</summary>
    Task<BlobDownload?> DownloadAsync(string container, string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens a read of the blob, with <paramref name="ifMatchETag"/> only of that version, in one request whose headers
    /// give the entry (size, ETag) before any content is read; at most <paramref name="maxBytes"/> + 1 bytes are ever
    /// requested. Returns null when the blob is missing; throws <see cref="BlobConflictException"/> when it is another
    /// version now. This default downloads the whole blob first; the stores override it with a conditional, ranged read.
    /// </summary>
    async Task<BlobReader?> OpenReadAsync(string container, string name, string? ifMatchETag, long maxBytes, CancellationToken cancellationToken = default)
    {
        BlobDownload? download = await DownloadAsync(container, name, cancellationToken).ConfigureAwait(false);
        if (download is null)
            return null;
        if (ifMatchETag is not null && download.Entry.ETag != ifMatchETag)
            throw new BlobConflictException(container, name, ifMatchETag);
        return new BlobReader(download.Entry, download.Content.ToStream());
    }

    /// <summary>
    /// Writes the blob only when no blob of that name exists. Exactly one of several racing callers gets
    /// <see cref="CreateOutcome.Created"/>; an existing blob is left untouched.
    /// </summary>
    Task<CreateOutcome> CreateIfAbsentAsync(string container, string name, BinaryData content, string? contentType = null, CancellationToken cancellationToken = default) =>
        CreateIfAbsentAsync(container, name, content, contentType, metadata: null, cancellationToken);

    /// <summary>
    /// <see cref="CreateIfAbsentAsync(string, string, BinaryData, string?, CancellationToken)"/> with the blob's
    /// <paramref name="metadata"/> (names are C# identifiers, values ASCII) written by the same request as its content,
    /// so a reader never sees the content without it; an existing blob keeps its own.
    /// </summary>
    Task<CreateOutcome> CreateIfAbsentAsync(string container, string name, BinaryData content, string? contentType, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes the blob, replacing any existing one, and returns its new ETag. With <paramref name="ifMatchETag"/>
    /// the write happens only when the current blob has that ETag; otherwise (also when the blob is missing)
    /// it throws <see cref="BlobConflictException"/>.
    /// </summary>
    Task<string> UploadAsync(string container, string name, BinaryData content, string? contentType = null, string? ifMatchETag = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes the blob from what <paramref name="write"/> writes to the stream it is given, replacing any existing one.
    /// The stores write as the stream fills (Azure: blocks staged as they fill and committed at the end; the local folder
    /// store: a file moved into place), so a blob larger than memory can be written; this default buffers it in memory.
    /// <paramref name="write"/> may be called again from the start when the first try failed.
    /// </summary>
    async Task UploadStreamingAsync(string container, string name, Func<Stream, CancellationToken, Task> write, string? contentType = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        using var buffer = new MemoryStream();
        await write(buffer, cancellationToken).ConfigureAwait(false);
        await UploadAsync(container, name, new BinaryData(buffer.GetBuffer().AsMemory(0, (int)buffer.Length)), contentType, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes the blob; false when there was none.</summary>
    Task<bool> DeleteAsync(string container, string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces the blob's metadata (names are C# identifiers, values ASCII; not indexed, read with the blob's
    /// properties, or listed with <see cref="ListAsync(string, string?, bool, CancellationToken)"/>). A write that
    /// replaces the blob's content drops it. Returns false when this store keeps no metadata (this default); throws
    /// <see cref="BlobNotFoundException"/> when the blob does not exist.
    /// </summary>
    Task<bool> SetMetadataAsync(string container, string name, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken = default) =>
        Task.FromResult(false);

    /// <summary>The blob's metadata; null when the blob does not exist or this store keeps none.</summary>
    Task<IReadOnlyDictionary<string, string>?> GetMetadataAsync(string container, string name, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyDictionary<string, string>?>(null);

    /// <summary>
    /// Replaces the blob's index tags (at most 10; keys 1-128 and values 0-256 characters of letters, digits,
    /// space and <c>+ - . / : = _</c>). Throws <see cref="BlobNotFoundException"/> when the blob does not exist.
    /// </summary>
    Task SetTagsAsync(string container, string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default);

    /// <summary>
    /// Finds blobs across containers by an Azure tag query, e.g. <c>"top1" = 'cat' AND "model" = 'v3'</c>;
    /// <c>@container = 'labels'</c> narrows it to one container. On Azure the tag index is eventually
    /// consistent: a blob tagged a moment ago may be missing from the answer for a short while.
    /// </summary>
    IAsyncEnumerable<BlobEntry> FindByTagsAsync(string tagQuery, CancellationToken cancellationToken = default);
}
