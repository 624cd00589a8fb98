using System.Globalization;
using AlexNet.Pipeline.Metering;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace AlexNet.Pipeline.Ingest;

/// <summary>
/// A ranged download (<c>x-ms-range: bytes=0-N</c>): the header bytes and the blob's size and ETag in one request. It goes
/// to the blob service directly, past any <see cref="CountingBlobStore"/>, so it counts itself into the host's
/// <see cref="RequestCounter"/> when there is one.
/// </summary>
public sealed class AzureBlobHeadReader(BlobServiceClient client, RequestCounter? requests = null) : IBlobHeadReader
{
    public async Task<BlobHead?> ReadHeadAsync(string container, string name, int maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        requests?.Add(RequestKind.Read);
        BlobClient blob = client.GetBlobContainerClient(container).GetBlobClient(name);
        try
        {
            Response<BlobDownloadResult> response = await blob.DownloadContentAsync(
                new BlobDownloadOptions { Range = new HttpRange(0, maxBytes) }, cancellationToken).ConfigureAwait(false);
            BlobDownloadDetails details = response.Value.Details;
            ReadOnlyMemory<byte> bytes = response.Value.Content.ToMemory();
            long size = TotalLength(details.ContentRange) ?? bytes.Length;
            return new BlobHead(new Storage.BlobEntry(container, name, size, FormatETag(details.ETag), details.LastModified), bytes);
        }
        catch (RequestFailedException ex) when (ex.Status == 416)
        {
            // No byte range of an empty blob is satisfiable; its properties still say which version it is.
            return await ReadEmptyAsync(blob, container, name, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    private static async Task<BlobHead?> ReadEmptyAsync(BlobClient blob, string container, string name, CancellationToken cancellationToken)
    {
        try
        {
            BlobProperties properties = await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return new BlobHead(new Storage.BlobEntry(container, name, properties.ContentLength, FormatETag(properties.ETag), properties.LastModified), ReadOnlyMemory<byte>.Empty);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    /// <summary>The total from <c>Content-Range: bytes 0-65535/1234567</c>.</summary>
    internal static long? TotalLength(string? contentRange)
    {
        int slash = contentRange?.LastIndexOf('/') ?? -1;
        return slash >= 0 && long.TryParse(contentRange.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long total) ? total : null;
    }

    // Same form as AzureBlobStore's entries (quoted), so ETags from listings and from this read compare equal.
    private static string FormatETag(ETag etag)
    {
        string value = etag.ToString();
        return value.StartsWith('"') ? value : $"\"{value}\"";
    }
}
