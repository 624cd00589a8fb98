using System.Formats.Tar;
using AlexNet.Model.Packaging;

namespace AlexNet.Pipeline.Models;

/// <summary>
/// A model package as one tar stream (<c>application/x-tar</c>): <c>manifest.json</c> and the weights file it names,
/// the body of <c>PUT /api/models/&lt;version&gt;</c>. <c>tar -cf - -C &lt;package&gt; manifest.json weights.safetensors</c>
/// makes one too. Reading refuses anything but those two plain files (links, devices, folders other than <c>./</c>,
/// other names, a file twice), reads neither past the size it may have (the manifest's bound, then the weights' size
/// range for the manifest's network), and checks the package as <see cref="ModelPackage.Load"/> does: bounds, seal,
/// size and SHA-256 of the weights.
/// </summary>
public static class ModelPackageArchive
{
    public const string ContentType = "application/x-tar";

    /// <summary>At most this many entries are looked at: the two files and a <c>./</c> folder entry, with room to spare.</summary>
    private const int MaxEntries = 8;

    /// <summary>Writes <paramref name="package"/> as a tar stream, manifest first.</summary>
    public static void Write(ModelPackage package, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(package);
        using var writer = new TarWriter(destination, TarEntryFormat.Pax, leaveOpen: true);
        WriteFile(writer, ModelPackage.ManifestFileName, package.ManifestBytes);
        WriteFile(writer, package.Manifest.WeightsFile, package.WeightsBytes.ToArray());
    }

    private static void WriteFile(TarWriter writer, string name, byte[] content)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content, writable: false) };
        writer.WriteEntry(entry);
    }

    /// <summary>
    /// Reads and checks a package from a tar stream of at most <paramref name="maxBytes"/>. Throws
    /// <see cref="InvalidDataException"/> or <see cref="ModelIntegrityException"/> with the reason.
    /// </summary>
    public static async Task<ModelPackage> ReadAsync(Stream source, long maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        await using var bounded = new BoundedReadStream(source, maxBytes);
        byte[]? manifestJson = null;
        ModelManifest? manifest = null;
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        try
        {
            using var reader = new TarReader(bounded, leaveOpen: true);
            int entries = 0;
            while (await NextEntryAsync(reader, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                if (++entries > MaxEntries)
                    throw new InvalidDataException($"the archive has more than {MaxEntries} entries; a package is {ModelPackage.ManifestFileName} and its weights file");
                string name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
                if (entry.EntryType == TarEntryType.Directory && name is "" or "." or "./")
                    continue;
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                    throw new InvalidDataException($"the archive entry '{entry.Name}' is a {entry.EntryType}; a package holds plain files only");
                if (!ModelManifest.IsPlainFileName(name))
                    throw new InvalidDataException($"the archive entry '{entry.Name}' is not a plain file name in the package folder");
                if (files.ContainsKey(name) || (name == ModelPackage.ManifestFileName && manifestJson is not null))
                    throw new InvalidDataException($"the archive holds '{name}' twice");

                if (name == ModelPackage.ManifestFileName)
                {
                    manifestJson = await ReadEntryAsync(entry, ModelManifest.MaxJsonBytes, cancellationToken).ConfigureAwait(false);
                    manifest = ModelManifest.FromJson(manifestJson);
                    foreach (var (early, content) in files)
                    {
                        if (early != manifest.WeightsFile)
                            throw new InvalidDataException($"the archive holds '{early}', which the manifest does not name (its weights file is '{manifest.WeightsFile}')");
                        ModelPackage.CheckWeightsSize(manifest, content.LongLength);
                    }
                    continue;
                }
                if (manifest is not null && name != manifest.WeightsFile)
                    throw new InvalidDataException($"the archive holds '{name}', which the manifest does not name (its weights file is '{manifest.WeightsFile}')");
                if (files.Count > 0)
                    throw new InvalidDataException($"the archive holds '{name}' besides '{files.Keys.First()}'; a package has one weights file");
                if (manifest is not null)
                    ModelPackage.CheckWeightsSize(manifest, entry.Length);
                files[name] = await ReadEntryAsync(entry, manifest is null ? maxBytes : ModelPackage.ExpectedWeightsBytes(manifest).Max, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (EndOfStreamException error)
        {
            throw new InvalidDataException($"the tar archive is truncated: {error.Message}", error);
        }

        if (manifestJson is null || manifest is null)
            throw new InvalidDataException($"the archive has no {ModelPackage.ManifestFileName}");
        if (!files.TryGetValue(manifest.WeightsFile, out byte[]? weights))
            throw new InvalidDataException($"the archive has no {manifest.WeightsFile}, the weights file its manifest names");
        return ModelPackage.Load(manifestJson, weights);
    }

    /// <summary>The next entry; a header the tar reader cannot parse is "not a tar archive".</summary>
    private static async Task<TarEntry?> NextEntryAsync(TarReader reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is FormatException or InvalidDataException)
        {
            throw new InvalidDataException($"the body is not a tar archive: {error.Message}", error);
        }
    }

    private static async Task<byte[]> ReadEntryAsync(TarEntry entry, long maxBytes, CancellationToken cancellationToken)
    {
        if (entry.Length > maxBytes)
            throw new InvalidDataException($"'{entry.Name}' is {entry.Length} bytes, more than the {maxBytes} it may have");
        if (entry.DataStream is not { } data)
            return [];
        byte[] content = new byte[entry.Length];
        await data.ReadExactlyAsync(content, cancellationToken).ConfigureAwait(false);
        return content;
    }

    /// <summary>Reads through to its source and fails once more than the bound has been read: a header cannot make the reader take more.</summary>
    private sealed class BoundedReadStream(Stream source, long maxBytes) : Stream
    {
        private long read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(source.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int n)
        {
            read += n;
            if (read > maxBytes)
                throw new InvalidDataException($"the archive is longer than the {maxBytes} bytes a model upload may have");
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
