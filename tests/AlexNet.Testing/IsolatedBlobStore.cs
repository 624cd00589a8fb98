using System.Runtime.CompilerServices;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Testing;

/// <summary>
/// The pipeline's containers (<c>incoming</c>, <c>labels</c>, <c>models</c>, ...) under a per-test suffix of one real
/// account, invisible to the code under test: names go in with the suffix and come back without it. So one test's
/// <c>models/current.json</c> never meets another's, nor another project's tests on the shared Azurite.
/// </summary>
public sealed class IsolatedBlobStore(IBlobStore inner, string suffix) : IBlobStore
{
    public string Suffix => suffix;

    /// <summary>The container's name in the account.</summary>
    public string Map(string container) => $"{container}-{suffix}";

    public IAsyncEnumerable<BlobEntry> ListAsync(string container, string? prefix = null, CancellationToken cancellationToken = default) =>
        ListAsync(container, prefix, includeMetadata: false, cancellationToken);

    public async IAsyncEnumerable<BlobEntry> ListAsync(string container, string? prefix, bool includeMetadata, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (BlobEntry entry in inner.ListAsync(Map(container), prefix, includeMetadata, cancellationToken).ConfigureAwait(false))
            yield return entry with { Container = container };
    }

    public async Task<BlobEntry?> GetEntryAsync(string container, string name, CancellationToken cancellationToken = default) =>
        await inner.GetEntryAsync(Map(container), name, cancellationToken).ConfigureAwait(false) is { } entry ? entry with { Container = container } : null;

    public async Task<BlobDownload?> DownloadAsync(string container, string name, CancellationToken cancellationToken = default) =>
        await inner.DownloadAsync(Map(container), name, cancellationToken).ConfigureAwait(false) is { } download
            ? download with { Entry = download.Entry with { Container = container } }
            : null;

    public Task<BlobReader?> OpenReadAsync(string container, string name, string? ifMatchETag, long maxBytes, CancellationToken cancellationToken = default) =>
        inner.OpenReadAsync(Map(container), name, ifMatchETag, maxBytes, cancellationToken);

    public Task<CreateOutcome> CreateIfAbsentAsync(string container, string name, BinaryData content, string? contentType = null, CancellationToken cancellationToken = default) =>
        CreateIfAbsentAsync(container, name, content, contentType, metadata: null, cancellationToken);

    public Task<CreateOutcome> CreateIfAbsentAsync(string container, string name, BinaryData content, string? contentType, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken = default) =>
        inner.CreateIfAbsentAsync(Map(container), name, content, contentType, metadata, cancellationToken);

    public Task<string> UploadAsync(string container, string name, BinaryData content, string? contentType = null, string? ifMatchETag = null, CancellationToken cancellationToken = default) =>
        inner.UploadAsync(Map(container), name, content, contentType, ifMatchETag, cancellationToken);

    public Task UploadStreamingAsync(string container, string name, Func<Stream, CancellationToken, Task> write, string? contentType = null, CancellationToken cancellationToken = default) =>
        inner.UploadStreamingAsync(Map(container), name, write, contentType, cancellationToken);

    public Task<bool> DeleteAsync(string container, string name, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(Map(container), name, cancellationToken);

    public Task<bool> SetMetadataAsync(string container, string name, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken = default) =>
        inner.SetMetadataAsync(Map(container), name, metadata, cancellationToken);

    public Task<IReadOnlyDictionary<string, string>?> GetMetadataAsync(string container, string name, CancellationToken cancellationToken = default) =>
        inner.GetMetadataAsync(Map(container), name, cancellationToken);

    public Task SetTagsAsync(string container, string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default) =>
        inner.SetTagsAsync(Map(container), name, tags, cancellationToken);

    /// <summary>Not isolated: a tag query spans the account's containers. Tests of tag queries use the store itself.</summary>
    public IAsyncEnumerable<BlobEntry> FindByTagsAsync(string tagQuery, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("tag queries span containers, so an isolated store cannot answer them");
}
