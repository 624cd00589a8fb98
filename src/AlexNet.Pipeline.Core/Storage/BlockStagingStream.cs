using System.Buffers;
using System.Globalization;
using System.Text;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace AlexNet.Pipeline.Storage;

/// <summary>
/// A write-only stream that stages a block blob's blocks as they fill and commits them only in <see cref="CommitAsync"/>:
/// until then the blob's earlier version is what readers see, and blocks never committed are dropped by the service.
/// (The SDK's <c>OpenWriteAsync</c> replaces the blob with an empty one the moment it is opened.) Asynchronous writes only.
/// </summary>
internal sealed class BlockStagingStream(BlockBlobClient blob, int blockSize) : Stream
{
    private readonly List<string> blocks = [];
    private byte[]? buffer = ArrayPool<byte>.Shared.Rent(blockSize);
    private int filled;
    private long length;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => buffer is not null;

    public override long Length => length;

    public override long Position
    {
        get => length;
        set => throw new NotSupportedException();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(buffer is null, this);
        while (data.Length > 0)
        {
            int take = Math.Min(blockSize - filled, data.Length);
            data[..take].CopyTo(buffer.AsMemory(filled));
            filled += take;
            length += take;
            data = data[take..];
            if (filled == blockSize)
                await StageAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public override Task WriteAsync(byte[] data, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(data.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Stages what is left and commits every block staged, in order, as the blob's new version.</summary>
    public async Task CommitAsync(BlobHttpHeaders? headers, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(buffer is null, this);
        if (filled > 0)
            await StageAsync(cancellationToken).ConfigureAwait(false);
        await blob.CommitBlockListAsync(blocks, new CommitBlockListOptions { HttpHeaders = headers }, cancellationToken).ConfigureAwait(false);
    }

    private async Task StageAsync(CancellationToken cancellationToken)
    {
        // Block ids of one blob must all have the same length.
        string id = Convert.ToBase64String(Encoding.ASCII.GetBytes(blocks.Count.ToString("D8", CultureInfo.InvariantCulture)));
        using var content = new MemoryStream(buffer!, 0, filled, writable: false);
        await blob.StageBlockAsync(id, content, cancellationToken: cancellationToken).ConfigureAwait(false);
        blocks.Add(id);
        filled = 0;
    }

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Write asynchronously.");

    public override void Flush()
    {
        // Blocks are staged when full; CommitAsync stages the rest.
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = null;
        }
        base.Dispose(disposing);
    }
}
