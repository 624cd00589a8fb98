namespace AlexNet.Pipeline.Storage;

/// <summary>A blob's identity and the properties that decide whether it changed.</summary>
/// <param name="ETag">Opaque version tag; pass it back as <c>ifMatchETag</c> to update only that version.</param>
/// <param name="Metadata">
/// The blob's metadata (empty when it has none) where it was asked for
/// (<see cref="IBlobStore.ListAsync(string, string?, bool, CancellationToken)"/>); null otherwise.
/// </param>
public sealed record BlobEntry(string Container, string Name, long Size, string ETag, DateTimeOffset LastModified, IReadOnlyDictionary<string, string>? Metadata = null);

/// <summary>A blob's content together with the entry it was read as, taken from the same response.</summary>
public sealed record BlobDownload(BlobEntry Entry, BinaryData Content);

/// <summary>
/// An open read of one version of a blob (<see cref="IBlobStore.OpenReadAsync"/>): its entry is known before any of the
/// content is read, so the reader can refuse a blob that is too large, or wait for room, first.
/// </summary>
public sealed class BlobReader(BlobEntry entry, Stream content) : IAsyncDisposable
{
    public BlobEntry Entry { get; } = entry;

    /// <summary>The content as it arrives; <see cref="ReadAllAsync"/> reads it whole.</summary>
    public Stream Content { get; } = content;

    /// <summary>Reads the content, <see cref="BlobEntry.Size"/> bytes and no more.</summary>
    public async Task<BinaryData> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        byte[] buffer = new byte[Entry.Size];
        int read = 0;
        int n;
        while (read < buffer.Length && (n = await Content.ReadAsync(buffer.AsMemory(read), cancellationToken).ConfigureAwait(false)) > 0)
            read += n;
        if (read < buffer.Length)
            throw new IOException($"blob {Entry.Container}/{Entry.Name} ended after {read} of {Entry.Size} bytes");
        return BinaryData.FromBytes(buffer);
    }

    public ValueTask DisposeAsync() => Content.DisposeAsync();
}

/// <summary>What <see cref="IBlobStore.CreateIfAbsentAsync"/> did.</summary>
public enum CreateOutcome
{
    Created,
    AlreadyExists,
}

/// <summary>One item of <see cref="IBlobStore.ListTopLevelAsync"/>: a folder (its name with the trailing <c>/</c>) or a blob at the top level.</summary>
public sealed record BlobTopLevelItem(string? Folder, BlobEntry? Blob);
