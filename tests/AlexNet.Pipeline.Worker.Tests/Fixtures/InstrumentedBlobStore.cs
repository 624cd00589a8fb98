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

    public IAsyncEnumerable<BlobEntry> ListAsync(string container, string? prefix = null, CancellationToken cancellationToken = default) =>
        ListAsync(container, prefix, includeMetadata: false, cancellationToken);

    public IAsyncEnumerable<BlobEntry> ListAsync(string container, string? prefix, bool includeMetadata, CancellationToken cancellationToken = default)
    {
        Check("List", container, prefix ?? "");
        return inner.ListAsync(container, prefix, includeMetadata, cancellationToken);
    }

    public Task<BlobEntry?> GetEntryAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        Check("GetEntry", container, name);
        return inner.GetEntryAsync(container, name, cancellationToken);
    }

    public async Task<BlobDownload?> DownloadAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        Check("Download", container, name);
        using var counted = CountDownload(container, name);
        if (DownloadDelay > TimeSpan.Zero)
            await Task.Delay(DownloadDelay, cancellationToken);
        return await inner.DownloadAsync(container, name, cancellationToken);
    }

    /// <summary>
    /// The conditional, ranged read; a fault rule sees it as "Download" too. The download counts as in progress from the
    /// first read of its content until the reader is disposed, and the delay comes before that first read.
    /// </summary>
    public async Task<BlobReader?> OpenReadAsync(string container, string name, string? ifMatchETag, long maxBytes, CancellationToken cancellationToken = default)
    {
        Check("Download", container, name);
        BlobReader? reader = await inner.OpenReadAsync(container, name, ifMatchETag, maxBytes, cancellationToken);
        return reader is null ? null : new BlobReader(reader.Entry, new TrackedStream(reader.Content, () => CountDownload(container, name), DownloadDelay));
    }

    /// <summary>The most downloads from one container that were in progress at once.</summary>
    public int MaxConcurrentDownloads(string container) => peakDownloads.GetValueOrDefault(container);

    private readonly ConcurrentDictionary<string, int> activeDownloads = new();
    private readonly ConcurrentDictionary<string, int> peakDownloads = new();

    /// <summary>The blobs of a container whose content was downloaded (read), once per download, in order.</summary>
    public IReadOnlyList<string> ContentReads(string container) => [.. contentReads.Where(r => r.Container == container).Select(r => r.Name)];

    private readonly ConcurrentQueue<(string Container, string Name)> contentReads = new();

    private Counted CountDownload(string container, string name)
    {
        contentReads.Enqueue((container, name));
        int now = activeDownloads.AddOrUpdate(container, 1, (_, n) => n + 1);
        peakDownloads.AddOrUpdate(container, now, (_, peak) => Math.Max(peak, now));
        return new Counted(() => activeDownloads.AddOrUpdate(container, 0, (_, n) => n - 1));
    }

    private sealed class Counted(Action release) : IDisposable
    {
        public void Dispose() => release();
    }

    public Task<CreateOutcome> CreateIfAbsentAsync(string container, string name, BinaryData content, string? contentType = null, CancellationToken cancellationToken = default) =>
        CreateIfAbsentAsync(container, name, content, contentType, metadata: null, cancellationToken);

    public async Task<CreateOutcome> CreateIfAbsentAsync(string container, string name, BinaryData content, string? contentType, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken = default)
    {
        Check("CreateIfAbsent", container, name);
        CreateOutcome outcome = await Interruptible(container, name, () => inner.CreateIfAbsentAsync(container, name, content, contentType, metadata, cancellationToken));
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

/// <summary>A content stream that counts as a download in progress from its first read until it is disposed.</summary>
internal sealed class TrackedStream(Stream inner, Func<IDisposable> start, TimeSpan delay) : Stream
{
    private IDisposable? counted;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => inner.Length;

    public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (counted is null)
        {
            counted = start();
            if (delay > TimeSpan.Zero)
                await Task.Delay(delay, cancellationToken);
        }
        return await inner.ReadAsync(buffer, cancellationToken);
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            counted?.Dispose();
            counted = null;
            inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
