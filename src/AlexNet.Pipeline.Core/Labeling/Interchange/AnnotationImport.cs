using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Pipeline.Labeling.Interchange;

/// <summary>What an import of a labeling tool's export did.</summary>
/// <param name="Imported">Images copied into <c>training/&lt;dataset&gt;/&lt;class&gt;/</c> (again, for an export imported before).</param>
/// <param name="Moved">Of those, images an earlier import had put under another class, removed from there.</param>
/// <param name="SkippedExamples">The first reasons for skipped images, each naming the image.</param>
public sealed record AnnotationImportResult(
    string Tool, string Dataset, int Images, int Imported, int Moved, int Skipped,
    IReadOnlyDictionary<string, int> Classes, IReadOnlyList<string> SkippedExamples);

/// <summary>Where the images an export names are read from.</summary>
public interface IAnnotatedImageSource
{
    /// <summary>The image's bytes, or null with the reason it cannot be read.</summary>
    Task<(byte[]? Bytes, string? Problem)> ReadAsync(string source, CancellationToken cancellationToken = default);
}

/// <summary>
/// Copies the annotated images of a labeling tool's export into <c>training/&lt;dataset&gt;/&lt;class&gt;/</c>, where the next
/// retrain of that data set picks them up. Each image gets one name whatever its class
/// (<c>&lt;file stem&gt;-&lt;8 hex of the source's SHA-256&gt;&lt;ext&gt;</c>), so importing the same export twice writes the same
/// blobs, and an image whose class changed is moved. Provenance goes into the copy's metadata.
/// </summary>
public sealed class AnnotationImport(IBlobStore store, TimeProvider time)
{
    public const int MaxSkippedExamples = 20;
    public const long MaxImageBytes = 32L * 1024 * 1024;

    public async Task<AnnotationImportResult> ImportAsync(
        string tool, IReadOnlyList<AnnotatedImage> images, string dataset, IAnnotatedImageSource source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(source);
        SafeIdCheck(dataset);

        // Names already in the data set by file name, so a class change moves the image instead of copying it twice.
        var existing = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await foreach (BlobEntry entry in store.ListAsync(PipelineNames.TrainingContainer, dataset + "/", cancellationToken).ConfigureAwait(false))
        {
            string file = entry.Name[(entry.Name.LastIndexOf('/') + 1)..];
            if (!existing.TryGetValue(file, out List<string>? names))
                existing[file] = names = [];
            names.Add(entry.Name);
        }

        int imported = 0, moved = 0;
        var skipped = new List<string>();
        var classes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        string at = time.GetUtcNow().UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        foreach (AnnotatedImage image in images)
        {
            if (image.Label is not { } label)
            {
                skipped.Add($"{image.Source}: {image.Skipped ?? "no class"}");
                continue;
            }
            if (ClassProblem(label) is { } problem)
            {
                skipped.Add($"{image.Source}: {problem}");
                continue;
            }
            (byte[]? bytes, string? unreadable) = await source.ReadAsync(image.Source, cancellationToken).ConfigureAwait(false);
            if (bytes is null)
            {
                skipped.Add($"{image.Source}: {unreadable}");
                continue;
            }
            string? mediaType = ImageMediaType.Of(bytes);
            if (mediaType is null)
            {
                skipped.Add($"{image.Source}: not a PNG, JPEG, GIF, WebP or BMP image");
                continue;
            }

            string file = FileName(image.Source);
            string name = $"{dataset}/{label}/{file}";
            await store.UploadAsync(PipelineNames.TrainingContainer, name, BinaryData.FromBytes(bytes), mediaType, cancellationToken: cancellationToken).ConfigureAwait(false);
            await store.SetMetadataAsync(PipelineNames.TrainingContainer, name, new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["source"] = Uri.EscapeDataString(image.Source),
                ["tool"] = tool,
                ["importedat"] = at,
                ["sourcesha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes)),
            }, cancellationToken).ConfigureAwait(false);
            if (existing.TryGetValue(file, out List<string>? earlier))
            {
                foreach (string other in earlier.Where(n => n != name).ToList())
                {
                    if (await store.DeleteAsync(PipelineNames.TrainingContainer, other, cancellationToken).ConfigureAwait(false))
                        moved++;
                    earlier.Remove(other);
                }
            }
            existing[file] = [name];
            imported++;
            classes[label] = classes.GetValueOrDefault(label) + 1;
        }

        return new AnnotationImportResult(tool, dataset, images.Count, imported, moved, skipped.Count, classes, [.. skipped.Take(MaxSkippedExamples)]);
    }

    /// <summary>Why a class name cannot be a folder of <c>training/&lt;dataset&gt;/</c>, or null when it can.</summary>
    public static string? ClassProblem(string label) =>
        label.Length > 128 || label.Contains('/', StringComparison.Ordinal) || LabelPaths.PathProblem(label) is not null
            ? $"class '{label}' cannot be a folder name (1-128 characters, no '/', '\\', control characters, '.' or '..')"
            : null;

    /// <summary>The copy's file name: the source's file stem (letters, digits, '.', '-', '_'), the source's hash, its extension.</summary>
    public static string FileName(string source)
    {
        string last = source[(source.LastIndexOfAny(['/', '\\']) + 1)..];
        string extension = Path.GetExtension(last).ToLowerInvariant();
        if (extension.Length is < 2 or > 6 || !extension[1..].All(char.IsAsciiLetterOrDigit))
            extension = string.Empty;
        string stem = new([.. last[..^extension.Length].Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')]);
        if (stem.Length > 64)
            stem = stem[..64];
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(source)))[..8];
        return $"{(stem.Length > 0 ? stem + "-" : string.Empty)}{hash}{extension}";
    }

    private static void SafeIdCheck(string dataset) => AlexNet.Model.SafeId.Validate("dataset", dataset, nameof(dataset));
}

/// <summary>
/// Images an export names in the pipeline's storage: an <c>azure-blob://container/name</c> address (as this pipeline's
/// exports and Label Studio's Azure storage write them) in the upload or training container, or a name relative to
/// <paramref name="container"/>/<paramref name="prefix"/> (as CVAT names a task's images).
/// </summary>
public sealed class StoredAnnotatedImages(IBlobStore store, string? container = null, string? prefix = null) : IAnnotatedImageSource
{
    private static readonly string[] ReadableContainers = [PipelineNames.IncomingContainer, PipelineNames.TrainingContainer];

    public async Task<(byte[]? Bytes, string? Problem)> ReadAsync(string source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        string blobContainer, name;
        if (source.StartsWith(AnnotationTools.AzureBlobScheme, StringComparison.Ordinal))
        {
            string rest = source[AnnotationTools.AzureBlobScheme.Length..];
            int slash = rest.IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0)
                return (null, "not an azure-blob://container/name address");
            (blobContainer, name) = (rest[..slash], Uri.UnescapeDataString(rest[(slash + 1)..]));
        }
        else if (source.Contains("://", StringComparison.Ordinal) || source.StartsWith('/'))
        {
            return (null, "an address this pipeline cannot read (only azure-blob:// or a name relative to the source)");
        }
        else if (container is null)
        {
            return (null, "a relative image name, and no source container/prefix was given to find it in");
        }
        else
        {
            (blobContainer, name) = (container, (prefix ?? string.Empty) + source);
        }

        if (!ReadableContainers.Contains(blobContainer, StringComparer.Ordinal))
            return (null, $"container '{blobContainer}' is not one images are imported from ({string.Join(", ", ReadableContainers)})");
        if (LabelPaths.PathProblem(name) is { } problem)
            return (null, problem);
        BlobReader? reader = await store.OpenReadAsync(blobContainer, name, null, AnnotationImport.MaxImageBytes, cancellationToken).ConfigureAwait(false);
        if (reader is null)
            return (null, $"{blobContainer}/{name} does not exist");
        await using (reader.ConfigureAwait(false))
        {
            if (reader.Entry.Size > AnnotationImport.MaxImageBytes)
                return (null, $"{blobContainer}/{name} is over {AnnotationImport.MaxImageBytes} bytes");
            return ((await reader.ReadAllAsync(cancellationToken).ConfigureAwait(false)).ToArray(), null);
        }
    }
}

/// <summary>
/// Images an export names in a local folder (the images a task was made of): the name as a path under the folder, then
/// without its first segments (an <c>azure-blob://container/batch/path</c> address finds <c>path</c>), then its file name.
/// </summary>
public sealed class FolderAnnotatedImages(string root) : IAnnotatedImageSource
{
    private readonly string root = Path.GetFullPath(root);

    public async Task<(byte[]? Bytes, string? Problem)> ReadAsync(string source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        string relative = source.StartsWith(AnnotationTools.AzureBlobScheme, StringComparison.Ordinal) ? Uri.UnescapeDataString(source[AnnotationTools.AzureBlobScheme.Length..]) : source;
        string[] segments = relative.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Any(s => s is "." or ".."))
            return (null, "the name has a '.' or '..' segment");
        for (int skip = 0; skip < segments.Length; skip++)
        {
            string candidate = Path.GetFullPath(Path.Combine([root, .. segments[skip..]]));
            if (!candidate.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(candidate))
                continue;
            if (new FileInfo(candidate).Length > AnnotationImport.MaxImageBytes)
                return (null, $"{candidate} is over {AnnotationImport.MaxImageBytes} bytes");
            return (await File.ReadAllBytesAsync(candidate, cancellationToken).ConfigureAwait(false), null);
        }
        return (null, $"no file for it under {root}");
    }
}
