using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Storage;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Api;

// The review loop: a batch's low-confidence images (review.jsonl) listed for people, their decisions kept as records
// beside the labels, and every confirmed or corrected class copied into training/ for the next retrain.
public sealed partial class PipelineApi
{
    public const int DefaultReviewPageSize = 50;
    public const int MaxReviewPageSize = 500;

    /// <summary>The largest image the review routes read: above it an upload is not shown or copied (413).</summary>
    public const long MaxReviewImageBytes = 32L * 1024 * 1024;

    /// <summary>The largest <c>review.jsonl</c> the review list reads (about 100,000 items).</summary>
    public const long MaxReviewListBytes = 256L * 1024 * 1024;

    public const int MaxReviewerLength = 128;

    public static IReadOnlyList<string> ReviewOrders { get; } = ["confidence", "margin"];

    public static IReadOnlyList<string> ReviewStates { get; } = ["all", "pending", "reviewed"];

    /// <summary>
    /// One page of <c>labels/&lt;batch&gt;/review.jsonl</c>, ordered by uncertainty (<paramref name="order"/>
    /// <c>confidence</c>, the default, or <c>margin</c>), optionally only the images whose top-1 is
    /// <paramref name="label"/> and only those still to decide (<paramref name="state"/> <c>pending</c>) or decided
    /// (<c>reviewed</c>); with the batch's progress. 404 while the batch has no review list.
    /// </summary>
    public async Task<ApiResult<ReviewPageView>> GetReviewPageAsync(
        string batch, string? order = null, string? label = null, string? state = null, string? offset = null, string? limit = null, CancellationToken cancellationToken = default)
    {
        if (BatchError(batch) is { } invalid)
            return ApiResult.BadRequest<ReviewPageView>(invalid);
        order = string.IsNullOrEmpty(order) ? ReviewOrders[0] : order;
        state = string.IsNullOrEmpty(state) ? ReviewStates[0] : state;
        label = string.IsNullOrEmpty(label) ? null : label;
        if (!ReviewOrders.Contains(order))
            return ApiResult.BadRequest<ReviewPageView>($"order '{order}' is not one of: {string.Join(", ", ReviewOrders)}");
        if (!ReviewStates.Contains(state))
            return ApiResult.BadRequest<ReviewPageView>($"state '{state}' is not one of: {string.Join(", ", ReviewStates)}");
        if (!TryParseCount(offset, 0, out int skip))
            return ApiResult.BadRequest<ReviewPageView>($"offset must be a whole number, not '{offset}'");
        if (!TryParseCount(limit, DefaultReviewPageSize, out int take))
            return ApiResult.BadRequest<ReviewPageView>($"limit must be a whole number, not '{limit}'");
        if ((OutOfRange("offset", skip, 0, int.MaxValue) ?? OutOfRange("limit", take, 1, MaxReviewPageSize)) is { } badRange)
            return ApiResult.BadRequest<ReviewPageView>(badRange);

        BlobReader? reader = await store.OpenReadAsync(LabelPaths.LabelsContainer, LabelPaths.BatchFile(batch, LabelPaths.Review), null, MaxReviewListBytes, cancellationToken).ConfigureAwait(false);
        if (reader is null)
            return ApiResult.NotFound<ReviewPageView>($"batch '{batch}' has no review list yet (labels/{batch}/review.jsonl is written when its labeling finishes)");
        List<LabelRecord> review;
        await using (reader.ConfigureAwait(false))
        {
            if (reader.Entry.Size > MaxReviewListBytes)
                return ApiResult.PayloadTooLarge<ReviewPageView>($"labels/{batch}/review.jsonl is {reader.Entry.Size} bytes, over the {MaxReviewListBytes} this list reads; raise the batch's minConfidence lower or split the batch");
            review = ReadJsonLines((await reader.ReadAllAsync(cancellationToken).ConfigureAwait(false)).ToArray());
        }

        var decided = new HashSet<string>(StringComparer.Ordinal);
        await foreach (BlobEntry entry in store.ListAsync(LabelPaths.LabelsContainer, $"{batch}/{LabelPaths.ReviewsFolder}/", cancellationToken).ConfigureAwait(false))
            decided.Add(entry.Name);
        BatchSummary? summary = await ReadAsync(LabelPaths.LabelsContainer, LabelPaths.BatchFile(batch, LabelPaths.Summary), LabelJsonContext.Default.BatchSummary, cancellationToken).ConfigureAwait(false);

        var items = review
            .Where(r => r.Top5.Count > 0)
            .Select(r => (Record: r, Path: LabelPaths.RelativeToBatch(batch, r.Image.Path), Top1: r.Top5[0].Probability, Margin: r.Top5[0].Probability - (r.Top5.Count > 1 ? r.Top5[1].Probability : 0f)))
            .Select(r => (r.Record, r.Path, r.Top1, r.Margin, Decided: decided.Contains(LabelPaths.ReviewRecord(batch, r.Path))))
            .ToList();
        var classes = items.GroupBy(i => i.Record.Top5[0].Label, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        int pending = items.Count(i => !i.Decided);

        var filtered = items
            .Where(i => label is null || i.Record.Top5[0].Label == label)
            .Where(i => state == "all" || (state == "pending") != i.Decided)
            .OrderBy(i => order == "margin" ? i.Margin : i.Top1)
            .ThenBy(i => i.Path, StringComparer.Ordinal)
            .ToList();

        var page = new List<ReviewItemView>();
        foreach (var item in filtered.Skip(skip).Take(take))
        {
            ReviewRecord? decision = item.Decided
                ? await ReadAsync(LabelPaths.LabelsContainer, LabelPaths.ReviewRecord(batch, item.Path), LabelJsonContext.Default.ReviewRecord, cancellationToken).ConfigureAwait(false)
                : null;
            page.Add(new ReviewItemView(item.Path, item.Record.Model.Version, item.Record.Top5, item.Top1, item.Margin, decision));
        }

        var modelClasses = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var group in filtered.Skip(skip).Take(take).GroupBy(i => i.Record.Model.Version, StringComparer.Ordinal))
            modelClasses[group.Key] = await ModelClassesAsync(group.First().Record, cancellationToken).ConfigureAwait(false);

        var progress = new ReviewProgress(summary?.Labeled ?? 0, summary?.Rejected ?? 0, items.Count, pending, decided.Count);
        return ApiResult.Ok(new ReviewPageView(batch, order, label, state, skip, take, filtered.Count, page, classes, progress, summary?.MinConfidence, modelClasses));
    }

    /// <summary>
    /// The bytes of a labeled image of the batch, for a person to look at: only an image with a label record is served
    /// (the record names its container and blob), at most <see cref="MaxReviewImageBytes"/>, and only in a format
    /// recognised from its first bytes (PNG, JPEG, GIF, WebP, BMP).
    /// </summary>
    public async Task<ApiResult<BinaryContent>> GetReviewImageAsync(string batch, string path, CancellationToken cancellationToken = default)
    {
        if (BatchError(batch) is { } invalid)
            return ApiResult.BadRequest<BinaryContent>(invalid);
        if (PathError(path) is { } badPath)
            return ApiResult.BadRequest<BinaryContent>(badPath);
        LabelRecord? label = await ReadAsync(LabelPaths.LabelsContainer, LabelPaths.Record(batch, path), LabelJsonContext.Default.LabelRecord, cancellationToken).ConfigureAwait(false);
        if (label is null)
            return ApiResult.NotFound<BinaryContent>($"image '{path}' of batch '{batch}' has no label record");

        ApiResult<byte[]> read = await ReadImageAsync(label, cancellationToken).ConfigureAwait(false);
        if (!read.IsSuccess)
            return new ApiResult<BinaryContent>(read.StatusCode, null, read.Error);
        return ImageMediaType.Of(read.Value!) is { } type
            ? ApiResult.Ok(new BinaryContent(read.Value!, type))
            : new ApiResult<BinaryContent>(415, null, $"image '{path}' is not a PNG, JPEG, GIF, WebP or BMP file");
    }

    /// <summary>Reads the body of a review decision; refuses JSON that does not parse or does not fit <see cref="ReviewDecisionInput"/>.</summary>
    public static ApiResult<ReviewDecisionInput?> ReadReviewDecision(ReadOnlySpan<byte> body)
    {
        if (body.Trim(" \t\r\n"u8).IsEmpty)
            return ApiResult.BadRequest<ReviewDecisionInput?>("the body must be a decision: {\"decision\": \"<class>\" or \"none\", \"reviewer\": \"...\", \"dataset\": \"...\"}");
        try
        {
            return ApiResult.Ok(JsonSerializer.Deserialize(body, ApiJsonContext.Default.ReviewDecisionInput));
        }
        catch (JsonException e)
        {
            return ApiResult.BadRequest<ReviewDecisionInput?>($"the body is not a valid review decision: {e.Message}");
        }
    }

    /// <summary>
    /// Records a reviewer's decision on one labeled image of the batch and, for a class, copies the image into
    /// <c>training/&lt;dataset&gt;/&lt;class&gt;/</c> with its provenance in the copy's metadata. Deciding the same again
    /// changes nothing but the record's time; a changed decision moves the copy (or removes it, for <c>none</c>).
    /// <paramref name="principal"/>, when the host knows who calls, is the reviewer. 400 for a decision that is not one of
    /// the model's classes, 404 without a label record, 409 when the image changed since it was labeled or another
    /// decision was written meanwhile.
    /// </summary>
    public async Task<ApiResult<ReviewRecord>> DecideAsync(string batch, string path, ReviewDecisionInput? input, string? principal = null, CancellationToken cancellationToken = default)
    {
        if (BatchError(batch) is { } invalid)
            return ApiResult.BadRequest<ReviewRecord>(invalid);
        if (PathError(path) is { } badPath)
            return ApiResult.BadRequest<ReviewRecord>(badPath);
        string? decision = input?.Decision;
        if (string.IsNullOrEmpty(decision))
            return ApiResult.BadRequest<ReviewRecord>("decision is required: one of the model's classes, or \"none\"");
        string? reviewer = string.IsNullOrWhiteSpace(principal) ? input!.Reviewer?.Trim() : principal.Trim();
        if (string.IsNullOrEmpty(reviewer) || reviewer.Length > MaxReviewerLength || reviewer.Any(char.IsControl))
            return ApiResult.BadRequest<ReviewRecord>($"reviewer is required: who decided, 1-{MaxReviewerLength} characters without control characters");
        bool none = decision == ReviewOutcome.None;
        string? dataset = input!.Dataset;
        if (!none && DatasetError(dataset) is { } badDataset)
            return ApiResult.BadRequest<ReviewRecord>($"{badDataset}; a class decision copies the image into training/<dataset>/<class>/");

        LabelRecord? label = await ReadAsync(LabelPaths.LabelsContainer, LabelPaths.Record(batch, path), LabelJsonContext.Default.LabelRecord, cancellationToken).ConfigureAwait(false);
        if (label is null || label.Top5.Count == 0)
            return ApiResult.NotFound<ReviewRecord>($"image '{path}' of batch '{batch}' has no label record to review");
        if (!none)
        {
            IReadOnlyList<string> classes = await ModelClassesAsync(label, cancellationToken).ConfigureAwait(false);
            if (!classes.Contains(decision, StringComparer.Ordinal))
                return ApiResult.BadRequest<ReviewRecord>($"decision '{decision}' is not one of model {label.Model.Version}'s classes ({string.Join(", ", classes.Take(20))}{(classes.Count > 20 ? ", ..." : "")}) nor \"none\"");
            if (decision.Contains('/', StringComparison.Ordinal) || LabelPaths.PathProblem(decision) is not null)
                return ApiResult.BadRequest<ReviewRecord>($"class '{decision}' cannot be a folder name in training/");
        }

        string recordName = LabelPaths.ReviewRecord(batch, path);
        BlobDownload? previousDownload = await store.DownloadAsync(LabelPaths.LabelsContainer, recordName, cancellationToken).ConfigureAwait(false);
        ReviewRecord? previous = previousDownload is null ? null : JsonSerializer.Deserialize(previousDownload.Content.ToMemory().Span, LabelJsonContext.Default.ReviewRecord);

        string? trainingBlob = none ? null : TrainingBlobName(dataset!, decision, batch, path);
        DateTimeOffset now = time.GetUtcNow();
        if (trainingBlob is not null)
        {
            ApiResult<byte[]> image = await ReadImageAsync(label, cancellationToken).ConfigureAwait(false);
            if (!image.IsSuccess)
                return new ApiResult<ReviewRecord>(image.StatusCode, null, image.Error);
            if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(image.Value!)), label.Image.Sha256, StringComparison.Ordinal))
                return ApiResult.Conflict<ReviewRecord>($"image '{path}' changed since it was labeled; it is reviewed once it is labeled again");
            await store.UploadAsync(PipelineNames.TrainingContainer, trainingBlob, BinaryData.FromBytes(image.Value!), ImageMediaType.Of(image.Value!) ?? "application/octet-stream", cancellationToken: cancellationToken).ConfigureAwait(false);
            await store.SetMetadataAsync(PipelineNames.TrainingContainer, trainingBlob, ReviewProvenance.Create(label, batch, reviewer, decision, now), cancellationToken).ConfigureAwait(false);
        }

        var record = new ReviewRecord(
            batch, path, label.Image, reviewer, now, label.Model.Version, label.Top5[0], decision,
            none ? ReviewOutcome.None : decision == label.Top5[0].Label ? ReviewOutcome.Confirmed : ReviewOutcome.Corrected,
            none ? null : dataset, trainingBlob);
        BinaryData content = BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(record, LabelJsonContext.Default.ReviewRecord));
        bool written = previousDownload is null
            ? await store.CreateIfAbsentAsync(LabelPaths.LabelsContainer, recordName, content, "application/json", cancellationToken).ConfigureAwait(false) == CreateOutcome.Created
            : await TryReplaceAsync(recordName, content, previousDownload.Entry.ETag, cancellationToken).ConfigureAwait(false);
        if (!written)
        {
            // Another decision won the race: keep its copy, drop this one unless it is the same.
            BlobDownload? winner = await store.DownloadAsync(LabelPaths.LabelsContainer, recordName, cancellationToken).ConfigureAwait(false);
            string? kept = winner is null ? null : JsonSerializer.Deserialize(winner.Content.ToMemory().Span, LabelJsonContext.Default.ReviewRecord)?.TrainingBlob;
            if (trainingBlob is not null && trainingBlob != kept && trainingBlob != previous?.TrainingBlob)
                await store.DeleteAsync(PipelineNames.TrainingContainer, trainingBlob, cancellationToken).ConfigureAwait(false);
            return ApiResult.Conflict<ReviewRecord>($"image '{path}' of batch '{batch}' was decided by someone else meanwhile; reload it");
        }

        if (previous?.TrainingBlob is { } old && old != trainingBlob)
            await store.DeleteAsync(PipelineNames.TrainingContainer, old, cancellationToken).ConfigureAwait(false);
        LogReviewed(logger, batch, path, record.Outcome, decision, reviewer);
        return ApiResult.Ok(record);
    }

    /// <summary>
    /// Where a class decision copies an image: <c>&lt;dataset&gt;/&lt;class&gt;/&lt;batch&gt;-&lt;16 hex of the path's SHA-256&gt;&lt;ext&gt;</c>, one
    /// name per image whatever the decision's time, so deciding twice writes one copy.
    /// </summary>
    public static string TrainingBlobName(string dataset, string label, string batch, string path)
    {
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(path)))[..16];
        string extension = System.IO.Path.GetExtension(path).ToLowerInvariant();
        if (extension.Length is < 2 or > 6 || !extension[1..].All(char.IsAsciiLetterOrDigit))
            extension = string.Empty;
        return $"{dataset}/{label}/{batch}-{hash}{extension}";
    }

    /// <summary>The classes of the model that labeled the image; its top-5 when the model's manifest is gone.</summary>
    private async Task<IReadOnlyList<string>> ModelClassesAsync(LabelRecord label, CancellationToken cancellationToken)
    {
        try
        {
            if (await models.GetManifestAsync(label.Model.Version, cancellationToken).ConfigureAwait(false) is { } manifest)
                return manifest.Classes;
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException or IOException)
        {
            LogUnreadableStatus(logger, "manifest of " + label.Model.Version, e.Message);
        }
        return [.. label.Top5.Select(s => s.Label)];
    }

    private async Task<ApiResult<byte[]>> ReadImageAsync(LabelRecord label, CancellationToken cancellationToken)
    {
        BlobReader? reader = await store.OpenReadAsync(label.Image.Container, label.Image.Path, null, MaxReviewImageBytes, cancellationToken).ConfigureAwait(false);
        if (reader is null)
            return ApiResult.NotFound<byte[]>($"{label.Image.Container}/{label.Image.Path} no longer exists");
        await using (reader.ConfigureAwait(false))
        {
            if (reader.Entry.Size > MaxReviewImageBytes)
                return ApiResult.PayloadTooLarge<byte[]>($"{label.Image.Container}/{label.Image.Path} is {reader.Entry.Size} bytes, over the {MaxReviewImageBytes} the review reads");
            return ApiResult.Ok((await reader.ReadAllAsync(cancellationToken).ConfigureAwait(false)).ToArray());
        }
    }

    private async Task<bool> TryReplaceAsync(string name, BinaryData content, string etag, CancellationToken cancellationToken)
    {
        try
        {
            await store.UploadAsync(LabelPaths.LabelsContainer, name, content, "application/json", etag, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (BlobConflictException)
        {
            return false;
        }
    }

    private static bool TryParseCount(string? text, int empty, out int value)
    {
        value = empty;
        return string.IsNullOrEmpty(text) || int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    internal static List<LabelRecord> ReadJsonLines(byte[] content)
    {
        var records = new List<LabelRecord>();
        ReadOnlySpan<byte> rest = content;
        while (!rest.IsEmpty)
        {
            int end = rest.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 1)..];
            if (!line.Trim(" \t\r"u8).IsEmpty && JsonSerializer.Deserialize(line, LabelJsonContext.Default.LabelRecord) is { } record)
                records.Add(record);
        }
        return records;
    }

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "Reviewed {Batch}/{Path}: {Outcome} as {Decision} by {Reviewer}")]
    private static partial void LogReviewed(ILogger logger, string batch, string path, string outcome, string decision, string reviewer);
}
