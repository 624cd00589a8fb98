namespace AlexNet.Pipeline.Storage;

/// <summary>A blob's identity and the properties that decide whether it changed.</summary>
/// <param name="ETag">Opaque version tag; pass it back as <c>ifMatchETag</c> to update only that version.</param>
public sealed record BlobEntry(string Container, string Name, long Size, string ETag, DateTimeOffset LastModified);

/// <summary>A blob's content together with the entry it was read as, taken from the same response.</summary>
public sealed record BlobDownload(BlobEntry Entry, BinaryData Content);

/// <summary>What <see cref="IBlobStore.CreateIfAbsentAsync"/> did.</summary>
public enum CreateOutcome
{
    Created,
    AlreadyExists,
}
