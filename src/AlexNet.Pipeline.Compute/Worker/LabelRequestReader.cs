using System.Text.Json;
using AlexNet.Model;
using AlexNet.Model.Inference;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;

namespace AlexNet.Pipeline.Worker;

/// <summary>A label request that passed every check, with its crop mode resolved.</summary>
public sealed record ValidLabelRequest(LabelRequest Request, CropMode CropMode)
{
    /// <summary>The request's images (empty for one whose items are still in its chunk request blob).</summary>
    public IReadOnlyList<LabelItem> Items => Request.Items ?? [];
}

/// <summary>
/// Reads and checks a label request body. A request that fails here can never succeed, however often it is
/// delivered, so the worker dead-letters it at once with the reason this returns.
/// </summary>
public static class LabelRequestReader
{
    /// <summary>The request, or why it is poison.</summary>
    public static (ValidLabelRequest? Request, string? Error) Read(BinaryData body, CropMode defaultCropMode)
    {
        ArgumentNullException.ThrowIfNull(body);
        LabelRequest parsed;
        try
        {
            parsed = ContractSerializer.FromBinary<LabelRequest>(body);
        }
        catch (Exception error) when (error is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            return (null, $"body is not a LabelRequest: {error.Message}");
        }

        // Positional records deserialize missing properties as null. A message from before items had parallel lists.
        if (parsed.Batch is null || parsed.Chunk is null || parsed.Container is null || parsed.WithItems() is not { Items: { } items } request)
            return (null, "LabelRequest lacks batch, chunk, container or items");
        try
        {
            LabelPaths.ValidateBatch(request.Batch);
        }
        catch (ArgumentException error)
        {
            return (null, error.Message);
        }
        if (!IsSegment(request.Chunk))
            return (null, $"chunk id '{request.Chunk}' must be 1-128 letters, digits, '-', '_' or '.'");
        if (!IsContainerName(request.Container))
            return (null, $"container '{request.Container}' is not a valid container name (3-63 lowercase letters, digits and single hyphens)");
        if (request.PathsInChunkRequest && (request.IsIngest || items.Count > 0))
            return (null, "a request whose items are in its chunk request blob must be an orchestration chunk and carry no items itself");
        if (ItemError(items) is { } itemError)
            return (null, itemError);

        CropMode? cropMode = ParseCropMode(request.CropMode, defaultCropMode);
        if (cropMode is null)
            return (null, CropModes.Error("crop mode", request.CropMode!));
        return (new ValidLabelRequest(request, cropMode.Value), null);
    }

    /// <summary>
    /// A request sent by reference with the items of its chunk request blob, or why that blob cannot stand in for the
    /// message (then the request is poison).
    /// </summary>
    public static (LabelRequest? Request, string? Error) WithItems(LabelRequest request, ChunkRequestFile file)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(file);
        if (file.Batch != request.Batch || file.Chunk != request.Chunk || file.Container != request.Container)
        {
            return (null, $"chunk request blob names batch '{file.Batch}', chunk '{file.Chunk}', container '{file.Container}', "
                + $"not the message's '{request.Batch}', '{request.Chunk}', '{request.Container}'");
        }
        if (ItemError(file.Items) is { } error)
            return (null, error);
        return (request with { Items = file.Items, PathsInChunkRequest = false }, null);
    }

    /// <summary>A request's crop mode by <see cref="CropModes"/>, the default when it names none; null for anything else.</summary>
    public static CropMode? ParseCropMode(string? value, CropMode defaultCropMode) =>
        string.IsNullOrWhiteSpace(value) ? defaultCropMode : CropModes.TryParse(value, out CropMode mode) ? mode : null;

    // Only a missing item or path makes a request poison. A path that cannot be a blob name is one bad item among good
    // ones: the run gives it a rejected record (LabelPaths.PathProblem) and labels the rest of the chunk.
    private static string? ItemError(IEnumerable<LabelItem?> items) =>
        items.Any(item => item?.Path is null) ? "an item or its path is null" : null;

    private static bool IsSegment(string value) => SafeId.IsValid(value);

    private static bool IsContainerName(string value) =>
        value.Length is >= 3 and <= 63 && char.IsAsciiLetterOrDigit(value[0]) && char.IsAsciiLetterOrDigit(value[^1])
        && value.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-') && !value.Contains("--", StringComparison.Ordinal);
}
