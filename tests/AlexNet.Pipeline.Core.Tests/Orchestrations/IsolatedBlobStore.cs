using AlexNet.Pipeline.Storage;

namespace AlexNet.Pipeline.Tests.Orchestrations;

/// <summary>
/// The pipeline's fixed containers (incoming, runs, models...) under a per-test prefix of one real store, so tests that
/// promote models or write batch files on the shared Azurite never see each other's <c>models/current.json</c>.
/// </summary>
internal sealed class IsolatedBlobStore(IBlobStore inner, string prefix) : IBlobStore
{
    public string Prefix => prefix;

    public string Physical(string container) => $"{prefix}-{container}";

    public IAsyncEnumerable<BlobEntry> ListAsync(string container, string? prefix = null, CancellationToken cancellationToken = default) =>
        inner.ListAsync(Physical(container), prefix, cancellationToken).Select(e => e with { Container = container });

    public async Task<BlobEntry?> GetEntryAsync(string container, string name, CancellationToken cancellationToken = default) =>
        (await inner.GetEntryAsync(Physical(container), name, cancellationToken).ConfigureAwait(false)) is { } entry ? entry with { Container = container } : null;

    public async Task<BlobDownload?> DownloadAsync(string container, string name, CancellationToken cancellationToken = default) =>
        (await inner.DownloadAsync(Physical(container), name, cancellationToken).ConfigureAwait(false)) is { } download
            ? download with { Entry = download.Entry with { Container = container } }
            : null;

    public Task<CreateOutcome> CreateIfAbsentAsync(string container, string name, BinaryData content, string? contentType = null, CancellationToken cancellationToken = default) =>
        inner.CreateIfAbsentAsync(Physical(container), name, content, contentType, cancellationToken);

    public Task<string> UploadAsync(string container, string name, BinaryData content, string? contentType = null, string? ifMatchETag = null, CancellationToken cancellationToken = default) =>
        inner.UploadAsync(Physical(container), name, content, contentType, ifMatchETag, cancellationToken);

    public Task<bool> DeleteAsync(string container, string name, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(Physical(container), name, cancellationToken);

    public Task<bool> SetMetadataAsync(string container, string name, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken = default) =>
        inner.SetMetadataAsync(Physical(container), name, metadata, cancellationToken);

    public Task<IReadOnlyDictionary<string, string>?> GetMetadataAsync(string container, string name, CancellationToken cancellationToken = default) =>
        inner.GetMetadataAsync(Physical(container), name, cancellationToken);

    public Task SetTagsAsync(string container, string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default) =>
        inner.SetTagsAsync(Physical(container), name, tags, cancellationToken);

    public IAsyncEnumerable<BlobEntry> FindByTagsAsync(string tagQuery, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("tag queries span containers; the orchestrations do not use them");
}
