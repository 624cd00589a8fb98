using System.Text.Json;
using System.Text.Json.Serialization;

namespace AlexNet.Pipeline.Contracts;

/// <summary>The paths of one chunk: <c>runs/&lt;batch&gt;/chunks/&lt;chunk&gt;.request.json</c>.</summary>
/// <param name="ETags">The ETag of each path when the batch was listed (null in files written before they were kept).</param>
/// <param name="Recorded">
/// Whether each path had a label or rejected record when the batch was listed (null in files written before they were kept).
/// </param>
public sealed record ChunkRequestFile(
    string Batch, string Chunk, string Container, IReadOnlyList<string> Paths, IReadOnlyList<string>? ETags = null, IReadOnlyList<bool>? Recorded = null)
{
    /// <summary>A chunk request blob's content (null for JSON null); malformed JSON throws <see cref="JsonException"/>.</summary>
    public static ChunkRequestFile? Parse(BinaryData content) =>
        JsonSerializer.Deserialize(content.ToMemory().Span, ChunkRequestJsonContext.Default.ChunkRequestFile);

    /// <summary>The same images in the same versions: a request that differs only in <see cref="Recorded"/> (a hint) is not a new chunk.</summary>
    public bool SameImages(ChunkRequestFile other) =>
        other is not null && Batch == other.Batch && Chunk == other.Chunk && Container == other.Container
        && Paths.SequenceEqual(other.Paths, StringComparer.Ordinal)
        && (ETags ?? []).SequenceEqual(other.ETags ?? [], StringComparer.Ordinal);

    /// <summary>The blob's content, as <see cref="Parse"/> reads it.</summary>
    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, ChunkRequestJsonContext.Default.ChunkRequestFile);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ChunkRequestFile))]
internal sealed partial class ChunkRequestJsonContext : JsonSerializerContext;
