using System.Collections.Concurrent;
using AlexNet.Pipeline.Storage;
using Azure;

namespace AlexNet.Pipeline.Worker.Tests.Fixtures;

/// <summary>One call into the store, as a fault rule sees it.</summary>
public sealed record BlobCall(string Operation, string Container, string Name);

/// <summary>
/// A store around a real one that counts every successful write per blob (to prove "written exactly once"),
/// fails the calls a rule picks with the 503 a throttled or unavailable account gives, and can slow downloads
/// down so that a run outlasts a lock or a shutdown.
/// </summary>
public sealed class InstrumentedBlobStore(IBlobStore inner) : IBlobStore
{
    private readonly ConcurrentDictionary<(string Container, string Name), int> writes = new();
    private readonly ConcurrentDictionary<(string Container, string Name), int> interrupted = new();
    private int faults;

    /// <summary>Calls for which this returns true throw instead of reaching the store.</summary>
    public Func<BlobCall, bool>? Fail { get; set; }

    public TimeSpan DownloadDelay { get; set; }

    public int Faults => Volatile.Read(ref faults);

    public int WritesOf(string container, string name) => writes.GetValueOrDefault((container, name));

    public IReadOnlyDictionary<(string Container, string Name), int> Writes => writes;

    /// <summary>
    /// Writes that were sent but whose caller saw an exception (a stop cancelling the request, say): the blob may or
    /// may not have been written, and the caller cannot tell which.
    /// </summary>
    public int InterruptedWritesOf(string container, string name) => interrupted.GetValueOrDefault((container, name));

    public IAsyncEnumerable<BlobEntry> ListAsync(string container, string? prefix = null, CancellationToken cancellationToken = default)
    {
        Check("List", container, prefix ?? "");
        return inner.ListAsync(container, prefix, cancellationToken);
    }

    public Task<BlobEntry?> GetEntryAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        Check("GetEntry", container, name);
        return inner.GetEntryAsync(container, name, cancellationToken);
    }

    public async Task<BlobDownload?> DownloadAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        Check("Download", container, name);
        if (DownloadDelay > TimeSpan.Zero)
            await Task.Delay(DownloadDelay, cancellationToken);
        return await inner.DownloadAsync(container, name, cancellationToken);
    }

    public async Task<CreateOutcome> CreateIfAbsentAsync(string container, string name, BinaryData content, string? contentType = null, CancellationToken cancellationToken = default)
    {
        Check("CreateIfAbsent", container, name);
        CreateOutcome outcome = await Interruptible(container, name, () => inner.CreateIfAbsentAsync(container, name, content, contentType, cancellationToken));
        if (outcome == CreateOutcome.Created)
            writes.AddOrUpdate((container, name), 1, (_, n) => n + 1);
        return outcome;
    }

    public async Task<string> UploadAsync(string container, string name, BinaryData content, string? contentType = null, string? ifMatchETag = null, CancellationToken cancellationToken = default)
    {
        Check("Upload", container, name);
        string etag = await Interruptible(container, name, () => inner.UploadAsync(container, name, content, contentType, ifMatchETag, cancellationToken));
        writes.AddOrUpdate((container, name), 1, (_, n) => n + 1);
        return etag;
    }

    private async Task<T> Interruptible<T>(string container, string name, Func<Task<T>> write)
    {
        try
        {
            return await write();
        }
        catch (OperationCanceledException)
        {
            interrupted.AddOrUpdate((container, name), 1, (_, n) => n + 1);
            throw;
        }
    }

    public Task<bool> DeleteAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        Check("Delete", container, name);
        return inner.DeleteAsync(container, name, cancellationToken);
    }

    public Task SetTagsAsync(string container, string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default)
    {
        Check("SetTags", container, name);
        return inner.SetTagsAsync(container, name, tags, cancellationToken);
    }

    public IAsyncEnumerable<BlobEntry> FindByTagsAsync(string tagQuery, CancellationToken cancellationToken = default) =>
        inner.FindByTagsAsync(tagQuery, cancellationToken);

    private void Check(string operation, string container, string name)
    {
        if (Fail is { } rule && rule(new BlobCall(operation, container, name)))
        {
            Interlocked.Increment(ref faults);
            throw new RequestFailedException(503, $"injected fault: {operation} {container}/{name}");
        }
    }
}
