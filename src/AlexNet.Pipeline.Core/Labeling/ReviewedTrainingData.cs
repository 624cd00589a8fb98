using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using AlexNet.Model.Data;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Pipeline.Labeling;

/// <summary>
/// The metadata of a review's copy in <c>training/&lt;dataset&gt;/&lt;class&gt;/</c>: where the image came from, who
/// decided, when, and what the labeling model had said. Metadata travels as HTTP headers (ASCII): names and paths are
/// percent-encoded.
/// </summary>
public static class ReviewProvenance
{
    public const string Source = "source";
    public const string SourceETag = "sourceetag";
    public const string SourceSha256 = "sourcesha256";
    public const string Batch = "batch";
    public const string Reviewer = "reviewer";
    public const string ReviewedAt = "reviewedat";
    public const string Decision = "decision";
    public const string ModelVersion = "modelversion";
    public const string ModelTop1 = "modeltop1";

    public static Dictionary<string, string> Create(LabelRecord label, string batch, string reviewer, string decision, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(label);
        return new(StringComparer.Ordinal)
        {
            [Source] = Uri.EscapeDataString($"{label.Image.Container}/{label.Image.Path}"),
            [SourceETag] = Uri.EscapeDataString(label.Image.ETag),
            [SourceSha256] = label.Image.Sha256,
            [Batch] = batch,
            [Reviewer] = Uri.EscapeDataString(reviewer),
            [ReviewedAt] = at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            [Decision] = Uri.EscapeDataString(decision),
            [ModelVersion] = label.Model.Version,
            [ModelTop1] = Uri.EscapeDataString(label.Top5[0].Label),
        };
    }
}

/// <summary>The labels reviewers changed in a model's top-1 (<paramref name="ModelTop1"/> to <paramref name="Decision"/>), and on how many images.</summary>
public sealed record ReviewCorrection(string ModelTop1, string Decision, int Images);

/// <summary>
/// The reviewed images in a training set: copies made by review decisions (their provenance says so), how many
/// confirmed the labeling model's top-1 and how many changed it (<see cref="Corrected"/>: the labels the reviewed data
/// changed), and of those, how many were decided after the current model was made (new to the next retrain).
/// </summary>
/// <param name="Corrections">The most common changes, most images first.</param>
public sealed record ReviewedDataSummary(
    int Images,
    int Confirmed,
    int Corrected,
    int Batches,
    int SinceCurrentModel,
    int CorrectedSinceCurrentModel,
    IReadOnlyList<ReviewCorrection> Corrections);

/// <summary>Finds and counts the review copies of a training set from their provenance.</summary>
public static partial class ReviewedTrainingData
{
    private const int ListedCorrections = 20;
    private const int Parallelism = 16;

    /// <summary>
    /// Whether a file of a class folder is named as a review's copy is (<c>&lt;batch&gt;-&lt;16 hex&gt;&lt;ext&gt;</c>):
    /// only those have their provenance read.
    /// </summary>
    public static bool MayBeReviewCopy(string fileName) => ReviewCopyName().IsMatch(fileName);

    /// <summary>
    /// Reads the provenance of the images of <c>training/&lt;dataset&gt;/</c> named as review copies and counts those with
    /// a review's provenance. <paramref name="currentModelCreated"/>, when there is a current model, splits off the
    /// decisions made after it.
    /// </summary>
    public static async Task<ReviewedDataSummary> SummarizeAsync(
        IBlobStore store, string dataset, IEnumerable<ImageEntry> images, DateTimeOffset? currentModelCreated, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(images);
        var found = new ConcurrentBag<(string Batch, string ModelTop1, string Decision, DateTimeOffset? At)>();
        await Parallel.ForEachAsync(
            images.Where(i => MayBeReviewCopy(i.Name)),
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (image, token) =>
            {
                IReadOnlyDictionary<string, string>? metadata = await store.GetMetadataAsync(PipelineNames.TrainingContainer, $"{dataset}/{image.Key}", token).ConfigureAwait(false);
                if (metadata is null
                    || !metadata.TryGetValue(ReviewProvenance.Decision, out string? decision)
                    || !metadata.TryGetValue(ReviewProvenance.ModelTop1, out string? top1)
                    || !metadata.TryGetValue(ReviewProvenance.Batch, out string? batch))
                    return;
                DateTimeOffset? at = metadata.TryGetValue(ReviewProvenance.ReviewedAt, out string? text)
                    && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out DateTimeOffset parsed) ? parsed : null;
                found.Add((batch, Uri.UnescapeDataString(top1), Uri.UnescapeDataString(decision), at));
            }).ConfigureAwait(false);

        var corrected = found.Where(f => f.ModelTop1 != f.Decision).ToList();
        bool IsNew((string Batch, string ModelTop1, string Decision, DateTimeOffset? At) f) =>
            currentModelCreated is null || f.At is null || f.At > currentModelCreated;
        return new ReviewedDataSummary(
            found.Count,
            found.Count - corrected.Count,
            corrected.Count,
            found.Select(f => f.Batch).Distinct(StringComparer.Ordinal).Count(),
            found.Count(IsNew),
            corrected.Count(IsNew),
            [.. corrected.GroupBy(f => (f.ModelTop1, f.Decision))
                .Select(g => new ReviewCorrection(g.Key.ModelTop1, g.Key.Decision, g.Count()))
                .OrderByDescending(c => c.Images).ThenBy(c => c.ModelTop1, StringComparer.Ordinal).ThenBy(c => c.Decision, StringComparer.Ordinal)
                .Take(ListedCorrections)]);
    }

    [GeneratedRegex(@"^.+-[0-9a-f]{16}(\.[a-z0-9]{1,5})?$", RegexOptions.CultureInvariant)]
    private static partial Regex ReviewCopyName();
}
