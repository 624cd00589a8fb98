using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Win32.SafeHandles;

namespace AlexNet.Pipeline.Storage;

/// <summary>
/// <see cref="IBlobStore"/> on a folder: <c>root/&lt;container&gt;/&lt;name&gt;</c>, with <c>/</c> in a name as
/// sub-folders, so the files can be browsed and fed to other tools. Writes go to a temporary file that is
/// then renamed into place, so a reader never sees half a blob. Bookkeeping (temporary files, index tags, metadata)
/// lives under <c>root/.blobstore/</c>, which no container name can reach.
/// </summary>
/// <remarks>
/// The ETag is the file's length and modification time. Replacing writes of one blob are serialized
/// within the process and each one moves the modification time forward, so a stale ETag never matches
/// again. Conditional replaces from several processes on one folder are not serialized against each other;
/// create-if-absent is atomic across processes on Linux (it hard-links the finished file into place, which fails if
/// the name exists) and within the process elsewhere. Metadata given to a create is written just after the blob is
/// linked into place, so a reader may briefly see the new blob without it (Azure writes both in one request).
/// Unlike Azure, a folder cannot hold both a blob <c>a</c> and a blob <c>a/b</c>.
/// </remarks>
public sealed partial class LocalFolderBlobStore : IBlobStore
{
    private const string BookkeepingFolder = ".blobstore";
    private const string TagsFileSuffix = ".tags.json";
    private const string MetadataFileSuffix = ".metadata.json";

    // Striped by blob so unrelated writes do not wait on each other, with a bounded number of semaphores.
    private readonly SemaphoreSlim[] writeLocks = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
    private readonly string tempFolder;
    private readonly string tagsFolder;
    private readonly string metadataFolder;

    public LocalFolderBlobStore(string rootPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootPath);
        RootPath = Path.GetFullPath(rootPath);
        tempFolder = Path.Combine(RootPath, BookkeepingFolder, "tmp");
        tagsFolder = Path.Combine(RootPath, BookkeepingFolder, "tags");
        metadataFolder = Path.Combine(RootPath, BookkeepingFolder, "metadata");
    }

    public string RootPath { get; }

    public IAsyncEnumerable<BlobEntry> ListAsync(string container, string? prefix = null, CancellationToken cancellationToken = default) =>
        ListAsync(container, prefix, includeMetadata: false, cancellationToken);

    public async IAsyncEnumerable<BlobEntry> ListAsync(
        string container,
        string? prefix,
        bool includeMetadata,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var containerPath = ContainerPath(container);
        prefix ??= string.Empty;

        // Start from the deepest folder the prefix names instead of walking the whole container.
        // A prefix cannot climb out of the container ("../other/") or into the bookkeeping folder.
        var lastSlash = prefix.LastIndexOf('/');
        var start = lastSlash < 0 ? containerPath : Path.GetFullPath(Path.Combine(containerPath, prefix[..lastSlash]));
        var inside = start == containerPath || start.StartsWith(containerPath + Path.DirectorySeparatorChar, StringComparison.Ordinal);
        if (!inside || !Directory.Exists(start))
        {
            yield break;
        }

        var names = new List<string>();
        foreach (var file in Directory.EnumerateFiles(start, "*", SearchOption.AllDirectories))
        {
            var name = Path.GetRelativePath(containerPath, file).Replace(Path.DirectorySeparatorChar, '/');
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                names.Add(name);
            }
        }

        // Azure lists in name order; the folder walk does not ("a.txt" sorts before "a/b").
        names.Sort(StringComparer.Ordinal);
        foreach (var name in names)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var entry = await GetEntryAsync(container, name, cancellationToken).ConfigureAwait(false);
            if (entry is not null)
            {
                yield return includeMetadata
                    ? entry with { Metadata = await ReadMetadataAsync(container, name, cancellationToken).ConfigureAwait(false) ?? new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) }
                    : entry;
            }
        }
    }

    public Task<BlobEntry?> GetEntryAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        var info = new FileInfo(BlobPath(container, name));
        return Task.FromResult(info.Exists ? Entry(container, name, info.Length, info.LastWriteTimeUtc) : null);
    }

    public async Task<BlobDownload?> DownloadAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        var path = BlobPath(container, name);
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException
            || (ex is UnauthorizedAccessException && Directory.Exists(path)))
        {
            return null; // missing, or a folder of other blobs ("a" when "a/b" exists)
        }

        using (handle)
        {
            // Length, time and bytes all come from one open file, so they agree even if the blob is
            // replaced meanwhile (a rename leaves this handle on the old file).
            var length = RandomAccess.GetLength(handle);
            var modified = File.GetLastWriteTimeUtc(handle);
            var buffer = new byte[length];
            var read = 0;
            while (read < buffer.Length)
            {
                var n = await RandomAccess.ReadAsync(handle, buffer.AsMemory(read), read, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new IOException($"Blob file '{container}/{name}' ended after {read} of {length} bytes.");
                }

                read += n;
            }

            return new BlobDownload(Entry(container, name, length, modified), BinaryData.FromBytes(buffer));
        }
    }

    public Task<BlobReader?> OpenReadAsync(string container, string name, string? ifMatchETag, long maxBytes, CancellationToken cancellationToken = default)
    {
        var path = BlobPath(container, name);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, useAsync: true);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException
            || (ex is UnauthorizedAccessException && Directory.Exists(path)))
        {
            return Task.FromResult<BlobReader?>(null);
        }

        // Length and time from the open file, so they describe the bytes this stream reads.
        var entry = Entry(container, name, stream.Length, File.GetLastWriteTimeUtc(stream.SafeFileHandle));
        if (ifMatchETag is not null && entry.ETag != ifMatchETag)
        {
            stream.Dispose();
            throw new BlobConflictException(container, name, ifMatchETag);
        }
        return Task.FromResult<BlobReader?>(new BlobReader(entry, stream));
    }

    public Task<CreateOutcome> CreateIfAbsentAsync(string container, string name, BinaryData content, string? contentType = null, CancellationToken cancellationToken = default) =>
        CreateIfAbsentAsync(container, name, content, contentType, metadata: null, cancellationToken);

    public async Task<CreateOutcome> CreateIfAbsentAsync(
        string container,
        string name,
        BinaryData content,
        string? contentType,
        IReadOnlyDictionary<string, string>? metadata,
        CancellationToken cancellationToken = default)
    {
        var (outcome, etag) = await CreateFileIfAbsentAsync(container, name, content, cancellationToken).ConfigureAwait(false);
        if (outcome == CreateOutcome.Created)
        {
            // The new blob's own metadata, or none: never what a deleted blob of that name left behind. Only onto the
            // version this call created: a blob replaced meanwhile starts without metadata, as in Azure.
            if (metadata is null)
                DeleteFileIfPresent(MetadataPath(container, name));
            else
                await WriteSideFileAsync(container, name, MetadataPath(container, name), metadata, etag, cancellationToken).ConfigureAwait(false);
        }

        return outcome;
    }

    /// <summary>Creates the blob's file if absent; with the ETag of the file written (the one created, if it was).</summary>
    private async Task<(CreateOutcome Outcome, string ETag)> CreateFileIfAbsentAsync(string container, string name, BinaryData content, CancellationToken cancellationToken)
    {
        var target = BlobPath(container, name);
        if (File.Exists(target))
        {
            return (CreateOutcome.AlreadyExists, string.Empty);
        }

        var temp = await WriteTempFileAsync(content, cancellationToken).ConfigureAwait(false);
        var written = new FileInfo(temp);

        // A link or a move keeps the file's length and time, so this is the created blob's ETag.
        var etag = ETagOf(written.Length, written.LastWriteTimeUtc);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);

            // The finished file is linked into place: atomic, and across processes.
            if (HardLink.TryCreate(temp, target) is { } created)
                return (created ? CreateOutcome.Created : CreateOutcome.AlreadyExists, etag);

            // No links here: check and move under this process's lock of the blob (racing processes are not excluded).
            var writeLock = LockFor(container, name);
            await writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (File.Exists(target))
                    return (CreateOutcome.AlreadyExists, etag);
                File.Move(temp, target, overwrite: false);
                return (CreateOutcome.Created, etag);
            }
            finally
            {
                writeLock.Release();
            }
        }
        catch (IOException) when (File.Exists(target))
        {
            return (CreateOutcome.AlreadyExists, etag);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public async Task<string> UploadAsync(
        string container,
        string name,
        BinaryData content,
        string? contentType = null,
        string? ifMatchETag = null,
        CancellationToken cancellationToken = default)
    {
        var temp = await WriteTempFileAsync(content, cancellationToken).ConfigureAwait(false);
        return await MoveIntoPlaceAsync(temp, container, name, ifMatchETag, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes a temporary file from <paramref name="write"/>, then moves it into place as <see cref="UploadAsync"/> does.</summary>
    public async Task UploadStreamingAsync(string container, string name, Func<Stream, CancellationToken, Task> write, string? contentType = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        Directory.CreateDirectory(tempFolder);
        var temp = Path.Combine(tempFolder, Guid.NewGuid().ToString("N"));
        try
        {
            var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 64 * 1024, FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
                await write(stream, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        await MoveIntoPlaceAsync(temp, container, name, ifMatchETag: null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Moves a written temporary file into place as the blob's new version (deleting the temporary file either way).</summary>
    private async Task<string> MoveIntoPlaceAsync(string temp, string container, string name, string? ifMatchETag, CancellationToken cancellationToken)
    {
        var target = BlobPath(container, name);
        try
        {
            var writeLock = LockFor(container, name);
            await writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var current = new FileInfo(target);
                if (ifMatchETag is not null
                    && (!current.Exists || ETagOf(current.Length, current.LastWriteTimeUtc) != ifMatchETag))
                {
                    throw new BlobConflictException(container, name, ifMatchETag);
                }

                // Every version gets a later time than the one it replaces, so equal length and a coarse
                // clock cannot give two versions one ETag.
                var stamp = File.GetLastWriteTimeUtc(temp);
                if (current.Exists && stamp <= current.LastWriteTimeUtc)
                {
                    stamp = current.LastWriteTimeUtc.AddTicks(1);
                    File.SetLastWriteTimeUtc(temp, stamp);
                }

                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Move(temp, target, overwrite: true);

                // A new version starts without tags or metadata, as a Put Blob over an existing blob does in Azure.
                DeleteFileIfPresent(TagsPath(container, name));
                DeleteFileIfPresent(MetadataPath(container, name));
                var written = new FileInfo(target);
                return ETagOf(written.Length, written.LastWriteTimeUtc);
            }
            finally
            {
                writeLock.Release();
            }
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public async Task<bool> DeleteAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        var target = BlobPath(container, name);
        var writeLock = LockFor(container, name);
        await writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            DeleteFileIfPresent(TagsPath(container, name));
            DeleteFileIfPresent(MetadataPath(container, name));
            return DeleteFileIfPresent(target);
        }
        finally
        {
            writeLock.Release();
        }
    }

    public async Task SetTagsAsync(string container, string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default)
    {
        BlobTagRules.Validate(tags);
        if (!await WriteSideFileAsync(container, name, TagsPath(container, name), tags, ifMatchETag: null, cancellationToken).ConfigureAwait(false))
        {
            throw new BlobNotFoundException(container, name);
        }
    }

    /// <summary>Kept in <c>root/.blobstore/metadata/&lt;container&gt;/&lt;name&gt;.metadata.json</c>, as the tags are.</summary>
    public async Task<bool> SetMetadataAsync(string container, string name, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return await WriteSideFileAsync(container, name, MetadataPath(container, name), metadata, ifMatchETag: null, cancellationToken).ConfigureAwait(false)
            ? true
            : throw new BlobNotFoundException(container, name);
    }

    public async Task<IReadOnlyDictionary<string, string>?> GetMetadataAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(BlobPath(container, name)))
        {
            return null;
        }

        return await ReadMetadataAsync(container, name, cancellationToken).ConfigureAwait(false) ?? new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
    }

    public async IAsyncEnumerable<BlobEntry> FindByTagsAsync(string tagQuery, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var query = BlobTagQuery.Parse(tagQuery);
        var searchRoot = query.Container is null ? tagsFolder : Path.Combine(tagsFolder, ValidContainer(query.Container));
        if (!Directory.Exists(searchRoot))
        {
            yield break;
        }

        foreach (var tagsFile in Directory.EnumerateFiles(searchRoot, "*" + TagsFileSuffix, SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var relative = Path.GetRelativePath(tagsFolder, tagsFile).Replace(Path.DirectorySeparatorChar, '/');
            var slash = relative.IndexOf('/', StringComparison.Ordinal);
            var container = relative[..slash];
            var name = relative[(slash + 1)..^TagsFileSuffix.Length];

            Dictionary<string, string>? tags;
            try
            {
                await using var stream = File.OpenRead(tagsFile);
                tags = await JsonSerializer.DeserializeAsync(stream, LocalBlobStoreJsonContext.Default.DictionaryStringString, cancellationToken).ConfigureAwait(false);
            }
            catch (FileNotFoundException)
            {
                continue; // deleted while we walked
            }

            if (tags is null || !query.Matches(container, tags))
            {
                continue;
            }

            var entry = await GetEntryAsync(container, name, cancellationToken).ConfigureAwait(false);
            if (entry is not null)
            {
                yield return entry;
            }
        }
    }

    private static BlobEntry Entry(string container, string name, long length, DateTime modifiedUtc) =>
        new(container, name, length, ETagOf(length, modifiedUtc), new DateTimeOffset(modifiedUtc, TimeSpan.Zero));

    private static string ETagOf(long length, DateTime modifiedUtc) => $"\"{length:x}-{modifiedUtc.Ticks:x}\"";

    private string ContainerPath(string container) => Path.Combine(RootPath, ValidContainer(container));

    private string BlobPath(string container, string name) => Path.Combine(ContainerPath(container), ValidName(name));

    private string TagsPath(string container, string name) =>
        Path.Combine(tagsFolder, ValidContainer(container), ValidName(name) + TagsFileSuffix);

    private string MetadataPath(string container, string name) =>
        Path.Combine(metadataFolder, ValidContainer(container), ValidName(name) + MetadataFileSuffix);

    /// <summary>
    /// Writes one of the blob's side files (its tags or its metadata) under the blob's lock, replacing any; false
    /// (nothing written) when the blob is missing, or with <paramref name="ifMatchETag"/> is another version now.
    /// </summary>
    private async Task<bool> WriteSideFileAsync(
        string container, string name, string path, IReadOnlyDictionary<string, string> values, string? ifMatchETag, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>(values), LocalBlobStoreJsonContext.Default.DictionaryStringString);
        var temp = await WriteTempFileAsync(BinaryData.FromBytes(json), cancellationToken).ConfigureAwait(false);
        try
        {
            var writeLock = LockFor(container, name);
            await writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var current = new FileInfo(BlobPath(container, name));
                if (!current.Exists || (ifMatchETag is not null && ETagOf(current.Length, current.LastWriteTimeUtc) != ifMatchETag))
                    return false;
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.Move(temp, path, overwrite: true);
                return true;
            }
            finally
            {
                writeLock.Release();
            }
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>The blob's metadata file (names case-insensitive, as Azure's), or null when it has none.</summary>
    private async Task<Dictionary<string, string>?> ReadMetadataAsync(string container, string name, CancellationToken cancellationToken)
    {
        try
        {
            var stream = File.OpenRead(MetadataPath(container, name));
            await using (stream.ConfigureAwait(false))
            {
                var stored = await JsonSerializer.DeserializeAsync(stream, LocalBlobStoreJsonContext.Default.DictionaryStringString, cancellationToken).ConfigureAwait(false);
                return stored is null ? null : new Dictionary<string, string>(stored, StringComparer.OrdinalIgnoreCase);
            }
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private static bool DeleteFileIfPresent(string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                return false;
            }

            File.Delete(path);
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
    }

    private SemaphoreSlim LockFor(string container, string name) =>
        writeLocks[(int)((uint)HashCode.Combine(container, name) % (uint)writeLocks.Length)];

    private async Task<string> WriteTempFileAsync(BinaryData content, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(tempFolder);
        var temp = Path.Combine(tempFolder, Guid.NewGuid().ToString("N"));
        var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous);
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteAsync(content.ToMemory(), cancellationToken).ConfigureAwait(false);
        }

        return temp;
    }

    // Azure's rule (3-63 lowercase letters, digits, single hyphens) also keeps containers off ".blobstore".
    private static string ValidContainer(string container)
    {
        ArgumentNullException.ThrowIfNull(container);
        return ContainerNamePattern().IsMatch(container)
            ? container
            : throw new ArgumentException($"Container name '{container}' must be 3-63 lowercase letters, digits or single hyphens, starting and ending with a letter or digit.", nameof(container));
    }

    private static string ValidName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Length > 1024 || name.StartsWith('/') || Path.IsPathRooted(name) || name.Contains('\\') || name.Contains('\0'))
        {
            throw new ArgumentException($"Blob name '{name}' must be a relative path of at most 1024 characters with '/' separators.", nameof(name));
        }

        foreach (var segment in name.Split('/'))
        {
            if (segment is "" or "." or "..")
            {
                throw new ArgumentException($"Blob name '{name}' has an empty, '.' or '..' segment.", nameof(name));
            }
        }

        return name;
    }

    [GeneratedRegex("^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex ContainerNamePattern();
}
