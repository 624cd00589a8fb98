using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Labeling.Interchange;
using AlexNet.Pipeline.Storage;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Api;

// The formats of labeling tools: a batch's labels out as Label Studio tasks or CVAT tags, and a tool's export back in
// as training data.
public sealed partial class PipelineApi
{
    /// <summary>
    /// The batch's labels (<c>labels.jsonl</c>, or only its review list with <paramref name="reviewOnly"/>) in the format
    /// of <paramref name="tool"/>: Label Studio tasks with predictions (JSON), or CVAT for images 1.1 tags (XML). 404 while
    /// the batch has no such file.
    /// </summary>
    public async Task<ApiResult<BinaryContent>> ExportLabelsAsync(string batch, string tool, bool reviewOnly = false, CancellationToken cancellationToken = default)
    {
        if (BatchError(batch) is { } invalid)
            return ApiResult.BadRequest<BinaryContent>(invalid);
        if (!AnnotationTools.All.Contains(tool))
            return ApiResult.BadRequest<BinaryContent>($"tool '{tool}' is not one of: {string.Join(", ", AnnotationTools.All)}");

        string file = reviewOnly ? LabelPaths.Review : LabelPaths.LabelsJsonl;
        BlobReader? reader = await store.OpenReadAsync(LabelPaths.LabelsContainer, LabelPaths.BatchFile(batch, file), null, MaxReviewListBytes, cancellationToken).ConfigureAwait(false);
        if (reader is null)
            return ApiResult.NotFound<BinaryContent>($"batch '{batch}' has no {file} yet (written when its labeling finishes)");
        List<LabelRecord> records;
        await using (reader.ConfigureAwait(false))
        {
            if (reader.Entry.Size > MaxReviewListBytes)
                return ApiResult.PayloadTooLarge<BinaryContent>($"labels/{batch}/{file} is {reader.Entry.Size} bytes, over the {MaxReviewListBytes} an export reads");
            records = ReadJsonLines((await reader.ReadAllAsync(cancellationToken).ConfigureAwait(false)).ToArray());
        }

        if (tool == AnnotationTools.LabelStudio)
            return ApiResult.Ok(new BinaryContent(LabelStudioFormat.WriteTasks(records), "application/json"));

        // CVAT's task needs every label a person may choose: the classes of each model that labeled the batch.
        var classes = new List<string>();
        foreach (LabelRecord first in records.Where(r => r.Top5.Count > 0).GroupBy(r => r.Model.Version, StringComparer.Ordinal).Select(g => g.First()))
            classes.AddRange((await ModelClassesAsync(first, cancellationToken).ConfigureAwait(false)).Where(c => !classes.Contains(c)));
        // CVAT's annotation mode gives every image its width and height: read from each image's header.
        var sizes = new System.Collections.Concurrent.ConcurrentDictionary<string, ImageSize>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(records.Where(r => r.Top5.Count > 0), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (record, token) =>
        {
            if (await ImageSizeAsync(record, token).ConfigureAwait(false) is { } size)
                sizes[record.Image.Path] = size;
        }).ConfigureAwait(false);
        return ApiResult.Ok(new BinaryContent(CvatFormat.WriteTags(batch, records, classes, time.GetUtcNow(), sizes), "application/xml"));
    }

    private static readonly AlexNet.Imaging.ImageDecoder HeaderReader = new();

    /// <summary>The most bytes read from the start of an image for its size: the ingest's header budget.</summary>
    public const int ImageHeadBytes = 64 * 1024;

    /// <summary>Width and height from the image's header (its first <see cref="ImageHeadBytes"/>), or null when it is gone or unreadable.</summary>
    private async Task<ImageSize?> ImageSizeAsync(LabelRecord record, CancellationToken cancellationToken)
    {
        BlobReader? reader = await store.OpenReadAsync(record.Image.Container, record.Image.Path, null, MaxReviewImageBytes, cancellationToken).ConfigureAwait(false);
        if (reader is null)
            return null;
        await using (reader.ConfigureAwait(false))
        {
            byte[] head = new byte[(int)Math.Min(reader.Entry.Size, ImageHeadBytes)];
            int read = 0, n;
            while (read < head.Length && (n = await reader.Content.ReadAsync(head.AsMemory(read), cancellationToken).ConfigureAwait(false)) > 0)
                read += n;
            return HeaderReader.Probe(head.AsSpan(0, read)).Header is { Width: > 0, Height: > 0 } header
                ? new ImageSize(header.Width, header.Height)
                : null;
        }
    }

    /// <summary>
    /// Imports a labeling tool's export as training data of <paramref name="dataset"/>: every annotated image is copied
    /// into <c>training/&lt;dataset&gt;/&lt;class&gt;/</c>. Images are read from the pipeline's storage: <c>azure-blob://</c>
    /// addresses as written, other names under <paramref name="source"/> (<c>&lt;container&gt;/&lt;prefix&gt;</c>, e.g.
    /// <c>incoming/shop-2024/</c>). 400 for a malformed export, with one line that says why.
    /// </summary>
    public async Task<ApiResult<AnnotationImportResult>> ImportAnnotationsAsync(
        string dataset, string tool, ReadOnlyMemory<byte> export, string? source = null, CancellationToken cancellationToken = default)
    {
        if (DatasetError(dataset) is { } invalid)
            return ApiResult.BadRequest<AnnotationImportResult>(invalid);
        if (!AnnotationTools.All.Contains(tool))
            return ApiResult.BadRequest<AnnotationImportResult>($"tool '{tool}' is not one of: {string.Join(", ", AnnotationTools.All)}");
        string? container = null, prefix = null;
        if (!string.IsNullOrEmpty(source))
        {
            int slash = source.IndexOf('/', StringComparison.Ordinal);
            (container, prefix) = slash < 0 ? (source, string.Empty) : (source[..slash], source[(slash + 1)..]);
            if (prefix.Length > 0 && !prefix.EndsWith('/'))
                prefix += "/";
            if (!LabelableContainers.Contains(container) || (prefix.Length > 0 && LabelPaths.PathProblem(prefix.TrimEnd('/')) is not null))
                return ApiResult.BadRequest<AnnotationImportResult>($"source '{source}' must be <container>/<prefix> in one of: {string.Join(", ", LabelableContainers)}");
        }

        IReadOnlyList<AnnotatedImage> images;
        try
        {
            images = AnnotationTools.Read(tool, export.Span);
        }
        catch (AnnotationFormatException e)
        {
            return ApiResult.BadRequest<AnnotationImportResult>(e.Message);
        }

        AnnotationImportResult result = await new AnnotationImport(store, time)
            .ImportAsync(tool, images, dataset, new StoredAnnotatedImages(store, container, prefix), cancellationToken).ConfigureAwait(false);
        LogImported(logger, tool, dataset, result.Imported, result.Skipped);
        return ApiResult.Ok(result);
    }

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "Imported a {Tool} export into training/{Dataset}/: {Imported} images, {Skipped} skipped")]
    private static partial void LogImported(ILogger logger, string tool, string dataset, int imported, int skipped);
}
