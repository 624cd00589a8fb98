using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Storage;

/// <summary>
/// <see cref="IBlobStore"/> on Azure Blob Storage (and Azurite). Containers are created the first time a
/// write finds one missing, so a fresh account needs no provisioning step and reads never create anything.
/// Transient faults are retried by the client's own retry policy (see AzureClientsExtensions).
/// </summary>
public sealed partial class AzureBlobStore(BlobServiceClient client, ILogger<AzureBlobStore> logger) : IBlobStore
{
    public IAsyncEnumerable<BlobEntry> ListAsync(string container, string? prefix = null, CancellationToken cancellationToken = default) =>
        ListAsync(container, prefix, includeMetadata: false, cancellationToken);

    /// <summary>With <paramref name="includeMetadata"/> the listing asks for the metadata too (<c>include=metadata</c>): the same requests.</summary>
    public async IAsyncEnumerable<BlobEntry> ListAsync(
        string container,
        string? prefix,
        bool includeMetadata,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var options = new GetBlobsOptions { Prefix = prefix, Traits = includeMetadata ? BlobTraits.Metadata : BlobTraits.None };
        var blobs = client.GetBlobContainerClient(container).GetBlobsAsync(options, cancellationToken);
        await using var items = blobs.GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            try
            {
                if (!await items.MoveNextAsync().ConfigureAwait(false))
                {
                    yield break;
                }
            }
            catch (RequestFailedException ex) when (ex.ErrorCode == BlobErrorCode.ContainerNotFound)
            {
                yield break;
            }

            var item = items.Current;
            yield return new BlobEntry(
                container,
                item.Name,
                item.Properties.ContentLength ?? 0,
                FormatETag(item.Properties.ETag),
                item.Properties.LastModified ?? DateTimeOffset.MinValue,
                includeMetadata ? new Dictionary<string, string>(item.Metadata ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase) : null);
        }
    }

    public async IAsyncEnumerable<BlobTopLevelItem> ListTopLevelAsync(string container, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var items = client.GetBlobContainerClient(container)
            .GetBlobsByHierarchyAsync(new GetBlobsByHierarchyOptions { Delimiter = "/" }, cancellationToken);
        await using var page = items.GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            try
            {
                if (!await page.MoveNextAsync().ConfigureAwait(false))
                {
                    yield break;
                }
            }
            catch (RequestFailedException ex) when (ex.ErrorCode == BlobErrorCode.ContainerNotFound)
            {
                yield break;
            }

            var item = page.Current;
            if (item.IsPrefix)
            {
                yield return new BlobTopLevelItem(item.Prefix, null);
                continue;
            }

            yield return new BlobTopLevelItem(null, new BlobEntry(
                container,
                item.Blob.Name,
                item.Blob.Properties.ContentLength ?? 0,
                FormatETag(item.Blob.Properties.ETag),
                item.Blob.Properties.LastModified ?? DateTimeOffset.MinValue));
        }
    }

    public async Task<BlobEntry?> GetEntryAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        try
        {
            BlobProperties properties = await Blob(container, name).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return new BlobEntry(container, name, properties.ContentLength, FormatETag(properties.ETag), properties.LastModified);
        }
        catch (RequestFailedException ex) when (IsNotFound(ex))
        {
            return null;
        }
    }

    public async Task<BlobDownload?> DownloadAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        try
        {
            BlobDownloadResult result = await Blob(container, name).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            var details = result.Details;
            return new BlobDownload(
                new BlobEntry(container, name, result.Content.ToMemory().Length, FormatETag(details.ETag), details.LastModified),
                result.Content);
        }
        catch (RequestFailedException ex) when (IsNotFound(ex))
        {
            return null;
        }
    }

    public async Task<BlobReader?> OpenReadAsync(string container, string name, string? ifMatchETag, long maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        // One request: the version is a condition, and the range stops a larger blob one byte past the limit. Its
        // total size is in Content-Range, known before the body is read.
        var options = new BlobDownloadOptions
        {
            Conditions = ifMatchETag is null ? null : new BlobRequestConditions { IfMatch = new ETag(ifMatchETag) },
            Range = new HttpRange(0, maxBytes == long.MaxValue ? null : maxBytes + 1),
        };
        try
        {
            BlobDownloadStreamingResult result = (await Blob(container, name).DownloadStreamingAsync(options, cancellationToken).ConfigureAwait(false)).Value;
            var details = result.Details;
            long size = TotalLength(details.ContentRange) ?? details.ContentLength;
            return new BlobReader(new BlobEntry(container, name, size, FormatETag(details.ETag), details.LastModified), result.Content);
        }
        catch (RequestFailedException ex) when (ex.Status == 412 || ex.ErrorCode == BlobErrorCode.ConditionNotMet)
        {
            throw new BlobConflictException(container, name, ifMatchETag, ex);
        }
        catch (RequestFailedException ex) when (ex.Status == 416)
        {
            // A range of an empty blob cannot be satisfied: it is empty (in the version asked for, or another).
            BlobEntry? entry = await GetEntryAsync(container, name, cancellationToken).ConfigureAwait(false);
            if (entry is null)
                return null;
            if (ifMatchETag is not null && entry.ETag != ifMatchETag)
                throw new BlobConflictException(container, name, ifMatchETag, ex);
            return entry.Size == 0 ? new BlobReader(entry, Stream.Null) : throw new IOException($"blob {container}/{name}: {ex.Message}", ex);
        }
        catch (RequestFailedException ex) when (IsNotFound(ex))
        {
            return null;
        }
    }

    // "bytes 0-99/1234" -> 1234
    private static long? TotalLength(string? contentRange) =>
        contentRange is not null && contentRange.LastIndexOf('/') is var slash and >= 0
        && long.TryParse(contentRange.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long total)
            ? total
            : null;

    public Task<CreateOutcome> CreateIfAbsentAsync(string container, string name, BinaryData content, string? contentType = null, CancellationToken cancellationToken = default) =>
        CreateIfAbsentAsync(container, name, content, contentType, metadata: null, cancellationToken);

    public async Task<CreateOutcome> CreateIfAbsentAsync(
        string container,
        string name,
        BinaryData content,
        string? contentType,
        IReadOnlyDictionary<string, string>? metadata,
        CancellationToken cancellationToken = default)
    {
        // If-None-Match: * makes the service refuse the write when any blob of that name exists, so racing
        // creators cannot overwrite each other: exactly one gets 201. The metadata travels in the same Put Blob.
        var options = UploadOptions(contentType, new BlobRequestConditions { IfNoneMatch = ETag.All });
        if (metadata is not null)
            options.Metadata = new Dictionary<string, string>(metadata);
        try
        {
            await WithContainerAsync(container, () => Blob(container, name).UploadAsync(content, options, cancellationToken), cancellationToken)
                .ConfigureAwait(false);
            return CreateOutcome.Created;
        }
        catch (RequestFailedException ex) when (ex.ErrorCode == BlobErrorCode.BlobAlreadyExists || ex.ErrorCode == BlobErrorCode.ConditionNotMet)
        {
            return CreateOutcome.AlreadyExists;
        }
    }

    public async Task<string> UploadAsync(
        string container,
        string name,
        BinaryData content,
        string? contentType = null,
        string? ifMatchETag = null,
        CancellationToken cancellationToken = default)
    {
        if (ifMatchETag is null)
        {
            var options = UploadOptions(contentType, conditions: null);
            var created = await WithContainerAsync(container, () => Blob(container, name).UploadAsync(content, options, cancellationToken), cancellationToken)
                .ConfigureAwait(false);
            return FormatETag(created.Value.ETag);
        }

        try
        {
            var options = UploadOptions(contentType, new BlobRequestConditions { IfMatch = new ETag(ifMatchETag) });
            var replaced = await Blob(container, name).UploadAsync(content, options, cancellationToken).ConfigureAwait(false);
            return FormatETag(replaced.Value.ETag);
        }
        catch (RequestFailedException ex) when (ex.ErrorCode == BlobErrorCode.ConditionNotMet || IsNotFound(ex))
        {
            throw new BlobConflictException(container, name, ifMatchETag, ex);
        }
    }

    /// <summary>
    /// Stages blocks as the stream fills (4 MiB each) and commits them once <paramref name="write"/> has returned; after a
    /// failure the earlier blob stays, and the staged blocks, never committed, are dropped by the service.
    /// </summary>
    public async Task UploadStreamingAsync(string container, string name, Func<Stream, CancellationToken, Task> write, string? contentType = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        var headers = contentType is null ? null : new BlobHttpHeaders { ContentType = contentType };
        await WithContainerAsync(container, async () =>
        {
            using var stream = new BlockStagingStream(client.GetBlobContainerClient(container).GetBlockBlobClient(name), StreamingBlockSize);
            await write(stream, cancellationToken).ConfigureAwait(false);
            await stream.CommitAsync(headers, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    private const int StreamingBlockSize = 4 * 1024 * 1024;

    public async Task<bool> DeleteAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        Response<bool> deleted = await Blob(container, name).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return deleted.Value;
    }

    public async Task SetTagsAsync(string container, string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tags);
        try
        {
            await Blob(container, name).SetTagsAsync(new Dictionary<string, string>(tags), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (IsNotFound(ex))
        {
            throw new BlobNotFoundException(container, name, ex);
        }
    }

    public async Task<bool> SetMetadataAsync(string container, string name, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        try
        {
            await Blob(container, name).SetMetadataAsync(new Dictionary<string, string>(metadata), cancellationToken: cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (IsNotFound(ex))
        {
            throw new BlobNotFoundException(container, name, ex);
        }
    }

    public async Task<IReadOnlyDictionary<string, string>?> GetMetadataAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        try
        {
            var properties = await Blob(container, name).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return new Dictionary<string, string>(properties.Value.Metadata, StringComparer.OrdinalIgnoreCase);
        }
        catch (RequestFailedException ex) when (IsNotFound(ex))
        {
            return null;
        }
    }

    public async IAsyncEnumerable<BlobEntry> FindByTagsAsync(string tagQuery, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tagQuery);
        await using var items = client.FindBlobsByTagsAsync(tagQuery, cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            try
            {
                if (!await items.MoveNextAsync().ConfigureAwait(false))
                {
                    yield break;
                }
            }
            catch (RequestFailedException ex) when (ex.Status == 400)
            {
                throw new ArgumentException($"Invalid blob tag query {tagQuery}: {ex.ErrorCode}", nameof(tagQuery), ex);
            }

            // The tag index answers with names only; a blob deleted since it was indexed is skipped.
            var entry = await GetEntryAsync(items.Current.BlobContainerName, items.Current.BlobName, cancellationToken).ConfigureAwait(false);
            if (entry is not null)
            {
                yield return entry;
            }
        }
    }

    private BlobClient Blob(string container, string name) => client.GetBlobContainerClient(container).GetBlobClient(name);

    private async Task<T> WithContainerAsync<T>(string container, Func<Task<T>> write, CancellationToken cancellationToken)
    {
        try
        {
            return await write().ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.ErrorCode == BlobErrorCode.ContainerNotFound)
        {
            // First write into a container that does not exist yet: create it and write once more.
            var created = await client.GetBlobContainerClient(container).CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            if (created is not null)
            {
                LogContainerCreated(logger, container);
            }

            return await write().ConfigureAwait(false);
        }
    }

    private static BlobUploadOptions UploadOptions(string? contentType, BlobRequestConditions? conditions) => new()
    {
        HttpHeaders = contentType is null ? null : new BlobHttpHeaders { ContentType = contentType },
        Conditions = conditions,
    };

    private static bool IsNotFound(RequestFailedException ex) =>
        ex.Status == 404 || ex.ErrorCode == BlobErrorCode.BlobNotFound || ex.ErrorCode == BlobErrorCode.ContainerNotFound;

    // Listings carry the ETag unquoted while response headers quote it; one form keeps them comparable.
    private static string FormatETag(ETag? etag)
    {
        var value = etag?.ToString() ?? string.Empty;
        return value.StartsWith('"') ? value : $"\"{value}\"";
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Created blob container {Container}")]
    private static partial void LogContainerCreated(ILogger logger, string container);
}
