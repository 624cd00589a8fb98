namespace AlexNet.Model.Data;

/// <summary>One labeled image of a source: its class (the first path segment) and its name within the class.</summary>
public sealed record ImageEntry(string Class, string Name, long Length)
{
    /// <summary><c>class/name</c>, the entry's identity within its source.</summary>
    public string Key => $"{Class}/{Name}";
}

/// <summary>
/// A labeled image collection laid out as <c>&lt;root&gt;/&lt;class&gt;/&lt;image&gt;</c>: a local folder here, a
/// blob container prefix in the pipeline. Training and evaluation only list and read through this.
/// </summary>
public interface IImageSource
{
    /// <summary>Where the images come from, for messages.</summary>
    string Description { get; }

    IAsyncEnumerable<ImageEntry> ListAsync(CancellationToken cancellationToken = default);

    Task<byte[]> ReadAsync(ImageEntry entry, CancellationToken cancellationToken = default);
}
