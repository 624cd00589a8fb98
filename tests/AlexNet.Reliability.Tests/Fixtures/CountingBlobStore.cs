using System.Collections.Concurrent;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Reliability.Tests.Fixtures;

/// <summary>
/// Counts every write that took effect, per blob: the proof of "written exactly once". It sits under the chaos
/// decorator, so a write whose response chaos threw away still counts.
/// </summary>
internal sealed class CountingBlobStore(IBlobStore inner) : IBlobStore
{
    private readonly ConcurrentDictionary<(string Container, string Name), int> writes = new();

    public int WritesOf(string container, string name) => writes.GetValueOrDefault((container, name));

    public IAsyncEnumerable<BlobEntry> ListAsync(string container, string? prefix = null, CancellationToken cancellationToken = default) =>
        inner.ListAsync(container, prefix, cancellationToken);

    public Task<BlobEntry?> GetEntryAsync(string container, string name, CancellationToken cancellationToken = default) =>
        inner.GetEntryAsync(container, name, cancellationToken);

    public Task<BlobDownload?> DownloadAsync(string container, string name, CancellationToken cancellationToken = default) =>
        inner.DownloadAsync(container, name, cancellationToken);

    public async Task<CreateOutcome> CreateIfAbsentAsync(string container, string name, BinaryData content, string? contentType = null, CancellationToken cancellationToken = default)
    {
        CreateOutcome outcome = await inner.CreateIfAbsentAsync(container, name, content, contentType, cancellationToken).ConfigureAwait(false);
        if (outcome == CreateOutcome.Created)
            writes.AddOrUpdate((container, name), 1, (_, n) => n + 1);
        return outcome;
    }

    public async Task<string> UploadAsync(string container, string name, BinaryData content, string? contentType = null, string? ifMatchETag = null, CancellationToken cancellationToken = default)
    {
        string etag = await inner.UploadAsync(container, name, content, contentType, ifMatchETag, cancellationToken).ConfigureAwait(false);
        writes.AddOrUpdate((container, name), 1, (_, n) => n + 1);
        return etag;
    }

    public Task<bool> DeleteAsync(string container, string name, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(container, name, cancellationToken);

    public Task SetTagsAsync(string container, string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default) =>
        inner.SetTagsAsync(container, name, tags, cancellationToken);

    public IAsyncEnumerable<BlobEntry> FindByTagsAsync(string tagQuery, CancellationToken cancellationToken = default) =>
        inner.FindByTagsAsync(tagQuery, cancellationToken);
}
