using System.Runtime.CompilerServices;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Pipeline.Resilience;

/// <summary>
/// An <see cref="IBlobStore"/> whose every call may be delayed, fail, or take effect and then fail, as
/// <see cref="ChaosInjector"/> decides: a store whose faults got past the SDK's retries. Listings and tag queries
/// may fail when they start.
/// </summary>
public sealed class ChaosBlobStore(IBlobStore inner, ChaosInjector chaos) : IBlobStore
{
    private const ChaosFaultFamily Family = ChaosFaultFamily.Storage;

    public IBlobStore Inner => inner;

    public IAsyncEnumerable<BlobEntry> ListAsync(string container, string? prefix = null, CancellationToken cancellationToken = default) =>
        ListAsync(container, prefix, includeMetadata: false, cancellationToken);

    public async IAsyncEnumerable<BlobEntry> ListAsync(string container, string? prefix, bool includeMetadata, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await chaos.RunAsync(Family, "blob.List", $"{container}/{prefix}", static _ => Task.CompletedTask, cancellationToken).ConfigureAwait(false);
        await foreach (BlobEntry entry in inner.ListAsync(container, prefix, includeMetadata, cancellationToken).ConfigureAwait(false))
            yield return entry;
    }

    public async IAsyncEnumerable<BlobTopLevelItem> ListTopLevelAsync(string container, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await chaos.RunAsync(Family, "blob.List", $"{container}/", static _ => Task.CompletedTask, cancellationToken).ConfigureAwait(false);
        await foreach (BlobTopLevelItem item in inner.ListTopLevelAsync(container, cancellationToken).ConfigureAwait(false))
            yield return item;
    }

    public Task<BlobEntry?> GetEntryAsync(string container, string name, CancellationToken cancellationToken = default) =>
        chaos.RunAsync(Family, "blob.GetEntry", $"{container}/{name}", token => inner.GetEntryAsync(container, name, token), cancellationToken);

    public Task<BlobDownload?> DownloadAsync(string container, string name, CancellationToken cancellationToken = default) =>
        chaos.RunAsync(Family, "blob.Download", $"{container}/{name}", token => inner.DownloadAsync(container, name, token), cancellationToken);

    public Task<BlobReader?> OpenReadAsync(string container, string name, string? ifMatchETag, long maxBytes, CancellationToken cancellationToken = default) =>
        chaos.RunAsync(Family, "blob.Download", $"{container}/{name}", token => inner.OpenReadAsync(container, name, ifMatchETag, maxBytes, token), cancellationToken);

    public Task<CreateOutcome> CreateIfAbsentAsync(string container, string name, BinaryData content, string? contentType = null, CancellationToken cancellationToken = default) =>
        CreateIfAbsentAsync(container, name, content, contentType, metadata: null, cancellationToken);

    public Task<CreateOutcome> CreateIfAbsentAsync(string container, string name, BinaryData content, string? contentType, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken = default) =>
        chaos.RunAsync(Family, "blob.CreateIfAbsent", $"{container}/{name}", token => inner.CreateIfAbsentAsync(container, name, content, contentType, metadata, token), cancellationToken);

    public Task<string> UploadAsync(
        string container, string name, BinaryData content, string? contentType = null, string? ifMatchETag = null, CancellationToken cancellationToken = default) =>
        chaos.RunAsync(Family, "blob.Upload", $"{container}/{name}", token => inner.UploadAsync(container, name, content, contentType, ifMatchETag, token), cancellationToken);

    public Task<bool> DeleteAsync(string container, string name, CancellationToken cancellationToken = default) =>
        chaos.RunAsync(Family, "blob.Delete", $"{container}/{name}", token => inner.DeleteAsync(container, name, token), cancellationToken);

    public Task SetTagsAsync(string container, string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default) =>
        chaos.RunAsync(Family, "blob.SetTags", $"{container}/{name}", token => inner.SetTagsAsync(container, name, tags, token), cancellationToken);

    public Task<bool> SetMetadataAsync(string container, string name, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken = default) =>
        chaos.RunAsync(Family, "blob.SetMetadata", $"{container}/{name}", token => inner.SetMetadataAsync(container, name, metadata, token), cancellationToken);

    public Task<IReadOnlyDictionary<string, string>?> GetMetadataAsync(string container, string name, CancellationToken cancellationToken = default) =>
        chaos.RunAsync(Family, "blob.GetMetadata", $"{container}/{name}", token => inner.GetMetadataAsync(container, name, token), cancellationToken);

    public async IAsyncEnumerable<BlobEntry> FindByTagsAsync(string tagQuery, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await chaos.RunAsync(Family, "blob.FindByTags", tagQuery, static _ => Task.CompletedTask, cancellationToken).ConfigureAwait(false);
        await foreach (BlobEntry entry in inner.FindByTagsAsync(tagQuery, cancellationToken).ConfigureAwait(false))
            yield return entry;
    }
}
