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

/// <summary>
/// An entry of an image source that is there but cannot be read as an image file: it gets a rejected record with
/// <see cref="Code"/> and <see cref="Reason"/>, and the run goes on.
/// </summary>
public sealed class UnreadableImageException(string code, string reason) : IOException(reason)
{
    /// <summary>Rejection code of a folder entry that is not a regular file in the folder (a link not followed, a FIFO, a device, a folder that cannot be read).</summary>
    public const string NotARegularFileCode = "NotARegularFile";

    /// <summary>Rejection code of a file the process may not read.</summary>
    public const string PermissionDeniedCode = "PermissionDenied";

    public string Code { get; } = code;

    public string Reason { get; } = reason;
}

/// <summary>
/// Every file under a local folder (hidden files and folders skipped); paths use '/'. The walk never leaves the
/// folder: symbolic links to folders are not followed (a loop would multiply the files, a link could lead anywhere),
/// links to files are read only when their final target is a regular file inside the folder, and FIFOs, devices
/// and sockets are never opened (opening a FIFO waits for a writer; a device can be read for ever). Each such entry,
/// and each sub-folder the process may not read, is listed, and opening it raises
/// <see cref="UnreadableImageException"/> with the reason, so the run records it as rejected and goes on. A file
/// deleted after the walk saw it is left out of the listing, or read as gone (the run counts it vanished).
/// </summary>
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
        foreach (string path in Walk(cancellationToken).Order(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Describe(path) is { } image)
                yield return image;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    public Task<BlobReader?> OpenReadAsync(ImageRef image, long maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        string file = System.IO.Path.Combine(root, image.Path);
        if (Refusal(file) is { } refusal)
            throw refusal;

        FileStream stream;
        try
        {
            stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, useAsync: true);
        }
        catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<BlobReader?>(null);
        }
        catch (UnauthorizedAccessException error)
        {
            throw new UnreadableImageException(UnreadableImageException.PermissionDeniedCode, $"The file cannot be read: {error.Message}");
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

    /// <summary>
    /// Relative paths of the folder's entries: files, links, special files, and sub-folders that cannot be read;
    /// readable sub-folders are walked, links to folders are not.
    /// </summary>
    private List<string> Walk(CancellationToken cancellationToken)
    {
        var found = new List<string>();
        var folders = new Stack<string>();
        folders.Push(root);
        var options = new EnumerationOptions { RecurseSubdirectories = false, IgnoreInaccessible = false, AttributesToSkip = 0 };
        while (folders.TryPop(out string? folder))
        {
            cancellationToken.ThrowIfCancellationRequested();
            List<FileSystemInfo> entries;
            try
            {
                entries = [.. new DirectoryInfo(folder).EnumerateFileSystemInfos("*", options)];
            }
            catch (Exception error) when (folder != root && error is UnauthorizedAccessException or IOException)
            {
                found.Add(Relative(folder)); // opening it says why; one deleted meanwhile reads as gone
                continue;
            }

            foreach (FileSystemInfo entry in entries)
            {
                if (entry.Name.StartsWith('.'))
                    continue;
                if (entry is DirectoryInfo && entry.LinkTarget is null)
                    folders.Push(entry.FullName);
                else
                    found.Add(Relative(entry.FullName));
            }
        }
        return found;
    }

    private string Relative(string path) => System.IO.Path.GetRelativePath(root, path).Replace('\\', '/');

    /// <summary>Why this entry is not opened, or null for a regular file in the folder (or one that is gone).</summary>
    private UnreadableImageException? Refusal(string path)
    {
        FileSystemInfo info = Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
        if (!info.Exists && info.LinkTarget is null)
            return null; // gone: the caller reads it as vanished
        if (info.LinkTarget is { } target)
        {
            FileSystemInfo? final = info.ResolveLinkTarget(returnFinalTarget: true);
            if (final is null || !final.Exists)
                return NotRegular($"a symbolic link to {target}, which does not exist");
            if (final is DirectoryInfo || final.Attributes.HasFlag(FileAttributes.Directory))
                return NotRegular($"a symbolic link to the folder {target}: links to folders are not followed (they can loop or leave the input folder)");
            if (!IsInside(final.FullName))
                return NotRegular($"a symbolic link to {final.FullName}, outside the input folder: not followed");
            info = final;
        }
        else if (info is DirectoryInfo)
        {
            return NotRegular("a folder that cannot be read (permission denied or an I/O error), so its images were not listed");
        }

        // A FIFO, a device or a socket has no size of its own: opening a FIFO waits for a writer, and a device can be
        // read for ever. .NET does not tell them from files, so no empty entry is opened (an empty file is no image).
        // The code is the decoder's for an empty file, which this most often is.
        return ((FileInfo)info).Length == 0
            ? new UnreadableImageException(nameof(AlexNet.Imaging.RejectionCode.Empty), "The entry has no bytes: an empty file, or a FIFO, device or socket (those are not opened).")
            : null;
    }

    private bool IsInside(string path)
    {
        string relative = System.IO.Path.GetRelativePath(root, path);
        return relative != ".." && !relative.StartsWith("../", StringComparison.Ordinal) && !System.IO.Path.IsPathRooted(relative);
    }

    private static UnreadableImageException NotRegular(string why) =>
        new(UnreadableImageException.NotARegularFileCode, $"The entry is {why}.");

    /// <summary>An entry as listed: files by size and time, others by their link's or folder's own; null when gone since the walk.</summary>
    private ImageRef? Describe(string path)
    {
        string full = System.IO.Path.Combine(root, path);
        FileSystemInfo info = new FileInfo(full);
        if (!info.Exists)
            info = new DirectoryInfo(full);
        if (!info.Exists && info.LinkTarget is null)
            return null;
        // A link that reads as a file is described by its final target, as opening it will see it.
        if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo { Exists: true } target)
            info = target;
        long length = info is FileInfo { Exists: true } file ? file.Length : 0;
        return new ImageRef(Container, path, length, ETagOf(length, info.LastWriteTimeUtc));
    }

    // Size and modification time stand in for a server ETag; content changes are also caught by the SHA-256.
    private static string ETagOf(long length, DateTime modifiedUtc) => $"\"{length:x}-{modifiedUtc.Ticks:x}\"";
}
