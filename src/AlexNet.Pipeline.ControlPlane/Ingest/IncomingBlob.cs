using AlexNet.Pipeline.Labeling;

namespace AlexNet.Pipeline.Ingest;

/// <summary>
/// Where an upload sits in <c>incoming/&lt;batch&gt;/&lt;path&gt;</c>, and so where its records go:
/// <c>labels/&lt;batch&gt;/&lt;path&gt;.json</c> and <c>rejected/&lt;batch&gt;/&lt;path&gt;.json</c>, the path taken relative to the
/// batch folder (as <c>alexnet label</c> does for a folder).
/// </summary>
/// <param name="BlobName">The blob's full name in its container, what a <see cref="Contracts.LabelRequest"/> carries.</param>
/// <param name="Batch">The first path segment; <see cref="UnbatchedBatch"/> when the upload has no valid batch folder.</param>
/// <param name="Path">The rest of the name under the batch folder.</param>
public sealed record IncomingBlob(string BlobName, string Batch, string Path, string? LocationError)
{
    /// <summary>Batch under which uploads outside any valid <c>&lt;batch&gt;/</c> folder are recorded as rejected.</summary>
    public const string UnbatchedBatch = "_unbatched";

    public const int MaxNameLength = 1024;

    public bool IsValid => LocationError is null;

    public string RecordName => LabelPaths.Record(Batch, Path);

    public static IncomingBlob Parse(string blobName)
    {
        ArgumentNullException.ThrowIfNull(blobName);
        if (blobName.Length > MaxNameLength)
            return Invalid(blobName, $"the blob name is {blobName.Length} characters long, over {MaxNameLength}");
        if (blobName.Any(char.IsControl))
            return Invalid(blobName, "the blob name contains control characters");

        int slash = blobName.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == blobName.Length - 1)
            return Invalid(blobName, "uploads belong in incoming/<batch>/<path>; this one is not inside a batch folder");

        string batch = blobName[..slash];
        string path = blobName[(slash + 1)..];
        if (batch == UnbatchedBatch)
            return Invalid(blobName, $"the folder '{UnbatchedBatch}' is reserved for the records of uploads outside any batch");
        if (!IsValidBatch(batch))
            return Invalid(blobName, $"the folder '{batch}' is not a valid batch id (1-128 letters, digits, '-', '_' or '.')");
        if (LabelPaths.PathProblem(path) is { } problem)
            return new IncomingBlob(blobName, batch, path, problem);
        return new IncomingBlob(blobName, batch, path, null);
    }

    /// <summary>A valid batch id other than <see cref="UnbatchedBatch"/>, whose records stand for uploads outside any batch.</summary>
    public static bool IsValidBatch(string batch)
    {
        if (batch == UnbatchedBatch)
            return false;
        try
        {
            LabelPaths.ValidateBatch(batch);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    // The record keeps the whole name as its path: LabelPaths.Record gives every name, however odd, its own record name.
    private static IncomingBlob Invalid(string blobName, string error) => new(blobName, UnbatchedBatch, blobName, error);
}
