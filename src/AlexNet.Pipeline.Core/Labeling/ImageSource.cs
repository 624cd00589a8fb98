using System.Runtime.CompilerServices;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Pipeline.Labeling;

/// <summary>
/// Identity of one input image: where it lives (container and blob name or relative file path) and which version
/// of it (ETag) was seen. <see cref="RecordPath"/> names its records under <c>labels/&lt;batch&gt;/</c> when that
/// differs from <see cref="Path"/>: an upload at <c>incoming/&lt;batch&gt;/x.jpg</c> has the record
/// <c>labels/&lt;batch&gt;/x.jpg.json</c>.
/// </summary>
public sealed record ImageRef(string Container, string Path, long Size, string ETag)
{
    public string? RecordPath { get; init; }

    public string RecordKey => RecordPath ?? Path;

    /// <summary>
    /// True when the batch listing showed no label record for this image: the engine skips its record look-up and
    /// creates the record create-if-absent, so one written since is still found (the create fails, then it is read).
    /// </summary>
    public bool NoRecordListed { get; init; }

    /// <summary>A blob of the upload layout <c>&lt;batch&gt;/&lt;path&gt;</c>, with its record path relative to the batch.</summary>
    public static ImageRef ForBatchBlob(string batch, string container, string name, long size, string etag) =>
        new(container, name, size, etag) { RecordPath = LabelPaths.RelativeToBatch(batch, name) };
}

/// <summary>Where a labeling run reads its images from: a blob container prefix or a local folder.</summary>
public interface IImageSource
{
    IAsyncEnumerable<ImageRef> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens the image for reading, only in the version <see cref="ImageRef.ETag"/> names when it names one (a
    /// <see cref="BlobConflictException"/> when it was replaced since): the reader knows its size and ETag before any
    /// content is read, and no more than <paramref name="maxBytes"/> + 1 bytes are requested. Null when it no longer exists.
    /// </summary>
    Task<BlobReader?> OpenReadAsync(ImageRef image, long maxBytes, CancellationToken cancellationToken = default);
}

/// <summary>Images under a prefix of a container, through any blob store (Azure, Azurite, local folder).</summary>
public sealed class BlobImageSource(IBlobStore store, string container, string? prefix = null) : IImageSource
{
    public IBlobStore Store => store;

    public string Container => container;

    public async IAsyncEnumerable<ImageRef> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (BlobEntry entry in store.ListAsync(container, prefix, cancellationToken).ConfigureAwait(false))
        {
            string? relative = prefix is { Length: > 0 } && entry.Name.StartsWith(prefix, StringComparison.Ordinal) ? entry.Name[prefix.Length..] : null;
            yield return new ImageRef(entry.Container, entry.Name, entry.Size, entry.ETag) { RecordPath = relative };
        }
    }

    public Task<BlobReader?> OpenReadAsync(ImageRef image, long maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        return store.OpenReadAsync(image.Container, image.Path, image.ETag.Length > 0 ? image.ETag : null, maxBytes, cancellationToken);
    }
}

/// <summary>Every file under a local folder (hidden files and folders skipped); paths use '/'.</summary>
public sealed class FolderImageSource : IImageSource
{
    private readonly string root;

    public FolderImageSource(string root, string container = "local")
    {
        this.root = System.IO.Path.GetFullPath(root);
        if (!Directory.Exists(this.root))
            throw new DirectoryNotFoundException($"input folder {root} does not exist");
        Container = container;
    }

    public string Container { get; }

    public async IAsyncEnumerable<ImageRef> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var paths = Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.Hidden })
            .Select(file => System.IO.Path.GetRelativePath(root, file).Replace('\\', '/'))
            .Where(path => !path.Split('/').Any(part => part.StartsWith('.')))
            .Order(StringComparer.Ordinal);
        foreach (string path in paths)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return Describe(path);
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    public Task<BlobReader?> OpenReadAsync(ImageRef image, long maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        string file = System.IO.Path.Combine(root, image.Path);
        FileStream stream;
        try
        {
            stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, useAsync: true);
        }
        catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<BlobReader?>(null);
        }

        DateTime modified = File.GetLastWriteTimeUtc(stream.SafeFileHandle);
        var entry = new BlobEntry(Container, image.Path, stream.Length, ETagOf(stream.Length, modified), new DateTimeOffset(modified, TimeSpan.Zero));
        if (image.ETag.Length > 0 && entry.ETag != image.ETag)
        {
            stream.Dispose();
            throw new BlobConflictException(Container, image.Path, image.ETag);
        }
        return Task.FromResult<BlobReader?>(new BlobReader(entry, stream));
    }

    private ImageRef Describe(string path)
    {
        var info = new FileInfo(System.IO.Path.Combine(root, path));
        return new ImageRef(Container, path, info.Length, ETagOf(info.Length, info.LastWriteTimeUtc));
    }

    // Size and modification time stand in for a server ETag; content changes are also caught by the SHA-256.
    private static string ETagOf(long length, DateTime modifiedUtc) => $"\"{length:x}-{modifiedUtc.Ticks:x}\"";

}
