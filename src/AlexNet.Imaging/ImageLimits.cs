namespace AlexNet.Imaging;

/// <summary>
/// Bounds checked against an image's header before any pixel buffer is allocated. A plain options record so a
/// host can bind it from configuration (<c>BindConfiguration(nameof(ImageLimits))</c>).
/// </summary>
public sealed record ImageLimits
{
    public const long DefaultMaxBytes = 64L * 1024 * 1024;

    /// <summary>Largest encoded file accepted, in bytes.</summary>
    public long MaxBytes { get; init; } = DefaultMaxBytes;

    public int MaxWidth { get; init; } = 16384;

    public int MaxHeight { get; init; } = 16384;

    /// <summary>Largest width x height accepted; 80 MP decodes to a 320 MB RGBA buffer at full size.</summary>
    public long MaxPixels { get; init; } = 80_000_000;

    /// <summary>
    /// Most frames a GIF, animated WebP or APNG may declare. Only the first frame is ever decoded; the limit
    /// bounds the work spent walking a file's frame structure. For progressive JPEGs it bounds the number of
    /// scans, each of which is a pass over the whole coefficient buffer.
    /// </summary>
    public int MaxFrames { get; init; } = 1000;

    public int MinWidth { get; init; } = 1;

    public int MinHeight { get; init; } = 1;

    public static ImageLimits Default { get; } = new();
}
