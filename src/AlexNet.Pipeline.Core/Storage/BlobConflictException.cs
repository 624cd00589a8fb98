namespace AlexNet.Pipeline.Storage;

/// <summary>A conditional write lost: the blob's current ETag is not the one the caller read.</summary>
public sealed class BlobConflictException : Exception
{
    public BlobConflictException()
    {
    }

    public BlobConflictException(string message)
        : base(message)
    {
    }

    public BlobConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public BlobConflictException(string container, string name, string? expectedETag, Exception? innerException = null)
        : base($"Blob '{container}/{name}' does not have ETag {expectedETag ?? "(any)"}: it changed or was removed since it was read.", innerException)
    {
        Container = container;
        Name = name;
        ExpectedETag = expectedETag;
    }

    public string? Container { get; }

    public string? Name { get; }

    public string? ExpectedETag { get; }
}
