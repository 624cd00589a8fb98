namespace AlexNet.Pipeline.Storage;

/// <summary>An operation that needs an existing blob (setting tags) found none.</summary>
public sealed class BlobNotFoundException : Exception
{
    public BlobNotFoundException()
    {
    }

    public BlobNotFoundException(string message)
        : base(message)
    {
    }

    public BlobNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public BlobNotFoundException(string container, string name, Exception? innerException = null)
        : base($"Blob '{container}/{name}' does not exist.", innerException)
    {
        Container = container;
        Name = name;
    }

    public string? Container { get; }

    public string? Name { get; }
}
