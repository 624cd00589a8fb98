using System.Globalization;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Pipeline.Api;

/// <summary>One upload found by its index tags: where it is, and its batch and path when it sits in a batch folder.</summary>
public sealed record ImageView(string Container, string Name, string? Batch, string? Path, long Size, string ETag, DateTimeOffset LastModified);

/// <summary>
/// A page of the uploads whose index tags match <paramref name="Query"/> (the tag query itself, for clients that run it
/// elsewhere); <paramref name="More"/> when the query found more past this page.
/// </summary>
public sealed record ImagesView(string Query, int Offset, int Limit, IReadOnlyList<ImageView> Items, bool More);

// Finding images by label: the index tags the worker writes on labeled uploads (Worker:TagSourceImages), queried with
// the store's tag query.
public sealed partial class PipelineApi
{
    public const int DefaultImagesPageSize = 100;
    public const int MaxImagesPageSize = 1000;

    /// <summary>
    /// The uploads whose top-1 tag is <paramref name="label"/>, optionally with a top-1 probability of at least
    /// <paramref name="minConfidence"/> and by model <paramref name="model"/>, paged in the order the tag index answers.
    /// Only uploads labeled with tagging on carry the tags (and <c>top1p</c> only those labeled since it was added); the
    /// index is eventually consistent in Azure.
    /// </summary>
    public async Task<ApiResult<ImagesView>> FindImagesAsync(
        string? label, string? minConfidence = null, string? model = null, string? offset = null, string? limit = null, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(label) || label.Length > BlobTagRules.MaxValueLength || label.Any(char.IsControl))
            return ApiResult.BadRequest<ImagesView>($"label is required: a class name of 1-{BlobTagRules.MaxValueLength} characters");
        double? min = null;
        if (!string.IsNullOrEmpty(minConfidence))
        {
            if (!double.TryParse(minConfidence, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double parsed) || parsed is < 0 or > 1)
                return ApiResult.BadRequest<ImagesView>($"minConfidence must be a number between 0 and 1, not '{minConfidence}'");
            min = parsed;
        }
        if (!string.IsNullOrEmpty(model) && VersionError(model) is { } badModel)
            return ApiResult.BadRequest<ImagesView>(badModel);
        if (!TryParseCount(offset, 0, out int skip))
            return ApiResult.BadRequest<ImagesView>($"offset must be a whole number, not '{offset}'");
        if (!TryParseCount(limit, DefaultImagesPageSize, out int take))
            return ApiResult.BadRequest<ImagesView>($"limit must be a whole number, not '{limit}'");
        if (OutOfRange("limit", take, 1, MaxImagesPageSize) is { } badLimit)
            return ApiResult.BadRequest<ImagesView>(badLimit);

        // Tag values hold no quote (BlobTagRules.ToValue), so nothing a caller sends can leave its string in the query.
        string query = $"@container = '{PipelineNames.IncomingContainer}' AND \"{LabelTags.Top1}\" = '{BlobTagRules.ToValue(label)}'";
        if (min is { } least)
            query += $" AND \"{LabelTags.Top1Probability}\" >= '{LabelTags.ProbabilityValue(least)}'";
        if (!string.IsNullOrEmpty(model))
            query += $" AND \"{LabelTags.Model}\" = '{BlobTagRules.ToValue(model)}'";

        var items = new List<ImageView>();
        int seen = 0;
        bool more = false;
        await foreach (BlobEntry entry in store.FindByTagsAsync(query, cancellationToken).ConfigureAwait(false))
        {
            if (seen++ < skip)
                continue;
            if (items.Count == take)
            {
                more = true;
                break;
            }
            int slash = entry.Name.IndexOf('/', StringComparison.Ordinal);
            items.Add(new ImageView(entry.Container, entry.Name, slash > 0 ? entry.Name[..slash] : null, slash > 0 ? entry.Name[(slash + 1)..] : null, entry.Size, entry.ETag, entry.LastModified));
        }
        return ApiResult.Ok(new ImagesView(query, skip, take, items, more));
    }
}
