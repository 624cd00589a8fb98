using AlexNet.Pipeline.Storage;

namespace AlexNet.Pipeline.Ingest;

/// <summary>The first bytes of a blob with the entry (whole size, ETag) they were read as, from one response.</summary>
public sealed record BlobHead(BlobEntry Entry, ReadOnlyMemory<byte> Bytes)
{
    /// <summary>The bytes are the whole blob, so a check on them is a check on the file.</summary>
    public bool IsWhole => Bytes.Length >= Entry.Size;
}

/// <summary>
/// Reads only the start of a blob: validating an upload needs its header, not a multi-megabyte download per event.
/// </summary>
public interface IBlobHeadReader
{
    /// <summary>Up to <paramref name="maxBytes"/> bytes from the start of the blob, or null when it does not exist.</summary>
    Task<BlobHead?> ReadHeadAsync(string container, string name, int maxBytes, CancellationToken cancellationToken = default);
}

/// <summary>
/// Any <see cref="IBlobStore"/>: downloads the whole blob and keeps its start. For the local folder backend, where a
/// read is a file read; Azure storage gets <see cref="AzureBlobHeadReader"/>'s ranged download instead.
/// </summary>
public sealed class StoreBlobHeadReader(IBlobStore store) : IBlobHeadReader
{
    public async Task<BlobHead?> ReadHeadAsync(string container, string name, int maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        BlobDownload? download = await store.DownloadAsync(container, name, cancellationToken).ConfigureAwait(false);
        if (download is null)
            return null;
        ReadOnlyMemory<byte> content = download.Content.ToMemory();
        return new BlobHead(download.Entry with { Size = content.Length }, content.Length > maxBytes ? content[..maxBytes] : content);
    }
}
