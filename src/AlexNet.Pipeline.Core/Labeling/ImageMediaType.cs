namespace AlexNet.Pipeline.Labeling;

/// <summary>The media type of an image from its first bytes, for the formats the pipeline accepts.</summary>
public static class ImageMediaType
{
    /// <summary><c>image/png</c>, <c>image/jpeg</c>, <c>image/gif</c>, <c>image/webp</c> or <c>image/bmp</c>; null for anything else.</summary>
    public static string? Of(ReadOnlySpan<byte> bytes) => bytes switch
    {
        [0x89, (byte)'P', (byte)'N', (byte)'G', ..] => "image/png",
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [(byte)'G', (byte)'I', (byte)'F', (byte)'8', ..] => "image/gif",
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => "image/webp",
        [(byte)'B', (byte)'M', ..] => "image/bmp",
        _ => null,
    };
}
