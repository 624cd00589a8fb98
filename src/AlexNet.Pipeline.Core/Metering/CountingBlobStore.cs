using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Pipeline.Metering;

/// <summary>
/// An <see cref="IBlobStore"/> that counts each request by kind into a <see cref="RequestCounter"/> before passing it on:
/// what a run costs in storage transactions. A request counts whether it succeeds or not, as the service bills it.
/// With <paramref name="perBlob"/>, it also keeps, per blob, the reads and the writes that took effect (a create that
/// found the blob there does not), which tests use to prove "written exactly once"; a host leaves it off, since it
/// grows with every blob touched.
/// </summary>
public sealed class CountingBlobStore(IBlobStore inner, RequestCounter counter, bool perBlob = false) : IBlobStore
{
    /// <summary>The most names one page of an Azure listing returns; a listing costs one request per page.</summary>
    public const int ListPageSize = 5000;

    private readonly ConcurrentDictionary<(string Container, string Name), int>? writes = perBlob ? new() : null;
    private readonly ConcurrentDictionary<(string Container, string Name), int>? reads = perBlob ? new() : null;

    public RequestCounter Counter => counter;

    /// <summary>The store underneath, for requests that are not to be counted (a benchmark's own look at the results).</summary>
    public IBlobStore Inner => inner;

    /// <summary>Writes of the blob that took effect; always 0 without per-blob counting.</summary>
    public int WritesOf(string container, string name) => writes?.GetValueOrDefault((container, name)) ?? 0;

    /// <summary>Reads (downloads and ranged reads) of the blob; always 0 without per-blob counting.</summary>
    public int ReadsOf(string container, string name) => reads?.GetValueOrDefault((container, name)) ?? 0;

    /// <summary>Reads of all blobs in the container; always 0 without per-blob counting.</summary>
    public int ReadsIn(string container) => reads?.Where(r => r.Key.Container == container).Sum(r => r.Value) ?? 0;

    /// <summary>The most reads of any one blob in the container; always 0 without per-blob counting.</summary>
    public int MostReadsOfOneIn(string container) => reads?.Where(r => r.Key.Container == container).Select(r => r.Value).DefaultIfEmpty().Max() ?? 0;

    public IAsyncEnumerable<BlobEntry> ListAsync(string container, string? prefix = null, CancellationToken cancellationToken = default) =>
        ListAsync(container, prefix, includeMetadata: false, cancellationToken);

    /// <summary>With or without metadata, the same pages: Azure lists the metadata with the names.</summary>
    public async IAsyncEnumerable<BlobEntry> ListAsync(string container, string? prefix, bool includeMetadata, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // The first page is asked for even when it comes back empty; each further page after a full one.
        counter.Add(RequestKind.List);
        long listed = 0;
        await foreach (BlobEntry entry in inner.ListAsync(container, prefix, includeMetadata, cancellationToken).ConfigureAwait(false))
        {
            if (listed > 0 && listed % ListPageSize == 0)
                counter.Add(RequestKind.List);
            listed++;
            yield return entry;
        }
    }

    public async IAsyncEnumerable<BlobTopLevelItem> ListTopLevelAsync(string container, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        counter.Add(RequestKind.List);
        long listed = 0;
        await foreach (BlobTopLevelItem item in inner.ListTopLevelAsync(container, cancellationToken).ConfigureAwait(false))
        {
            if (listed > 0 && listed % ListPageSize == 0)
                counter.Add(RequestKind.List);
            listed++;
            yield return item;
        }
    }

    public Task<BlobEntry?> GetEntryAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        counter.Add(RequestKind.Head);
        return inner.GetEntryAsync(container, name, cancellationToken);
    }

    public Task<BlobDownload?> DownloadAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        CountRead(container, name);
        return inner.DownloadAsync(container, name, cancellationToken);
    }

    public Task<BlobReader?> OpenReadAsync(string container, string name, string? ifMatchETag, long maxBytes, CancellationToken cancellationToken = default)
    {
        CountRead(container, name);
        return inner.OpenReadAsync(container, name, ifMatchETag, maxBytes, cancellationToken);
    }

    public Task<CreateOutcome> CreateIfAbsentAsync(string container, string name, BinaryData content, string? contentType = null, CancellationToken cancellationToken = default) =>
        CreateIfAbsentAsync(container, name, content, contentType, metadata: null, cancellationToken);

    /// <summary>One write, with or without metadata: Azure sets it in the same Put Blob.</summary>
    public async Task<CreateOutcome> CreateIfAbsentAsync(string container, string name, BinaryData content, string? contentType, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken = default)
    {
        counter.Add(RequestKind.Write);
        CreateOutcome outcome = await inner.CreateIfAbsentAsync(container, name, content, contentType, metadata, cancellationToken).ConfigureAwait(false);
        if (outcome == CreateOutcome.Created)
            writes?.AddOrUpdate((container, name), 1, static (_, n) => n + 1);
        return outcome;
    }

    public async Task<string> UploadAsync(string container, string name, BinaryData content, string? contentType = null, string? ifMatchETag = null, CancellationToken cancellationToken = default)
    {
        counter.Add(RequestKind.Write);
        string etag = await inner.UploadAsync(container, name, content, contentType, ifMatchETag, cancellationToken).ConfigureAwait(false);
        writes?.AddOrUpdate((container, name), 1, static (_, n) => n + 1);
        return etag;
    }

    /// <summary>Counted as one write; Azure makes it one request per 4 MiB block and one to commit them.</summary>
    public async Task UploadStreamingAsync(string container, string name, Func<Stream, CancellationToken, Task> write, string? contentType = null, CancellationToken cancellationToken = default)
    {
        counter.Add(RequestKind.Write);
        await inner.UploadStreamingAsync(container, name, write, contentType, cancellationToken).ConfigureAwait(false);
        writes?.AddOrUpdate((container, name), 1, static (_, n) => n + 1);
    }

    public Task<bool> DeleteAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        counter.Add(RequestKind.Delete);
        return inner.DeleteAsync(container, name, cancellationToken);
    }

    // Set Blob Metadata is a write of the blob's properties; Get Blob Properties is a HEAD.
    public Task<bool> SetMetadataAsync(string container, string name, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken = default)
    {
        counter.Add(RequestKind.Write);
        return inner.SetMetadataAsync(container, name, metadata, cancellationToken);
    }

    public Task<IReadOnlyDictionary<string, string>?> GetMetadataAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        counter.Add(RequestKind.Head);
        return inner.GetMetadataAsync(container, name, cancellationToken);
    }

    public Task SetTagsAsync(string container, string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default)
    {
        counter.Add(RequestKind.Tag);
        return inner.SetTagsAsync(container, name, tags, cancellationToken);
    }

    public IAsyncEnumerable<BlobEntry> FindByTagsAsync(string tagQuery, CancellationToken cancellationToken = default)
    {
        counter.Add(RequestKind.TagQuery);
        return inner.FindByTagsAsync(tagQuery, cancellationToken);
    }

    private void CountRead(string container, string name)
    {
        counter.Add(RequestKind.Read);
        reads?.AddOrUpdate((container, name), 1, static (_, n) => n + 1);
    }
}
