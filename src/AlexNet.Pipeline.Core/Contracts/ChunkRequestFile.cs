using System.Text.Json;
using System.Text.Json.Serialization;

namespace AlexNet.Pipeline.Contracts;

/// <summary>The images of one chunk: <c>runs/&lt;batch&gt;/chunks/&lt;chunk&gt;.request.json</c>.</summary>
/// <param name="Items">The images with their ETags and whether each had a record when the batch was listed.</param>
/// <remarks>
/// Persisted (read by the orchestration and the worker while a batch is in flight): fields are only added. Files
/// written before <see cref="Items"/> hold parallel lists <c>paths</c>, <c>eTags</c> and <c>recorded</c>, which
/// <see cref="Parse"/> turns into items.
/// </remarks>
public sealed record ChunkRequestFile(string Batch, string Chunk, string Container, IReadOnlyList<LabelItem> Items)
{
    /// <summary>
    /// A chunk request blob's content with its images as <see cref="Items"/> (null for JSON null or a file with no
    /// images listed at all); malformed JSON throws <see cref="JsonException"/>.
    /// </summary>
    public static ChunkRequestFile? Parse(BinaryData content)
    {
        ArgumentNullException.ThrowIfNull(content);
        Stored? stored = JsonSerializer.Deserialize(content.ToMemory().Span, ChunkRequestJsonContext.Default.Stored);
        if (stored?.Batch is null || stored.Chunk is null || stored.Container is null)
            return null;
        IReadOnlyList<LabelItem>? items = stored.Items
            ?? (stored.Paths is null ? null : LabelItem.FromParallelLists(stored.Paths, stored.ETags, stored.Recorded));
        return items is null ? null : new ChunkRequestFile(stored.Batch, stored.Chunk, stored.Container, items);
    }

    /// <summary>
    /// The same images in the same versions: a request that differs only in <see cref="LabelItem.HasRecord"/> (a hint)
    /// is not a new chunk.
    /// </summary>
    public bool SameImages(ChunkRequestFile other) =>
        other is not null && Batch == other.Batch && Chunk == other.Chunk && Container == other.Container
        && Items.Select(i => (i.Path, i.ETag)).SequenceEqual(other.Items.Select(i => (i.Path, i.ETag)));

    /// <summary>The blob's content, as <see cref="Parse"/> reads it.</summary>
    public byte[] ToUtf8Json() =>
        JsonSerializer.SerializeToUtf8Bytes(new Stored(Batch, Chunk, Container, Items), ChunkRequestJsonContext.Default.Stored);

    /// <summary>The file as stored: today's items, or the parallel lists of files written before them.</summary>
    internal sealed record Stored(
        string? Batch, string? Chunk, string? Container, IReadOnlyList<LabelItem>? Items,
        IReadOnlyList<string>? Paths = null, IReadOnlyList<string>? ETags = null, IReadOnlyList<bool>? Recorded = null);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChunkRequestFile.Stored))]
internal sealed partial class ChunkRequestJsonContext : JsonSerializerContext;
