using System.ComponentModel.DataAnnotations;

namespace AlexNet.Imaging;

/// <summary>
/// Bounds checked against an image's header before any pixel buffer is allocated. A plain options record so a
/// host can bind it from configuration (<c>BindConfiguration(nameof(ImageLimits))</c>) and validate it at start
/// (<c>ValidateDataAnnotations()</c>).
/// </summary>
public sealed record ImageLimits
{
    public const long DefaultMaxBytes = 64L * 1024 * 1024;

    /// <summary>Largest encoded file accepted, in bytes.</summary>
    [Range(1L, long.MaxValue)]
    public long MaxBytes { get; init; } = DefaultMaxBytes;

    [Range(1, int.MaxValue)]
    public int MaxWidth { get; init; } = 16384;

    [Range(1, int.MaxValue)]
    public int MaxHeight { get; init; } = 16384;

    /// <summary>
    /// Largest width x height accepted. Memory does not grow with it for most files: JPEG and WebP decode at a
    /// reduced scale, non-interlaced PNG streams in bands; the rest (GIF, interlaced PNG, BMP) decode at full size
    /// (80 MP: a 320 MB buffer) under <see cref="MaxDecodeBytesInFlight"/>.
    /// </summary>
    [Range(1L, long.MaxValue)]
    public long MaxPixels { get; init; } = 80_000_000;

    /// <summary>
    /// Most frames a GIF, animated WebP or APNG may declare. Only the first frame is ever decoded; the limit
    /// bounds the work spent walking a file's frame structure. For progressive JPEGs it bounds the number of
    /// scans, each of which is a pass over the whole coefficient buffer.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int MaxFrames { get; init; } = 1000;

    /// <summary>
    /// Most bytes of full-size pixel buffers one decoder holds at once, across all the threads calling it. A decode
    /// that needs more waits for others to finish; one that alone needs more than this runs when no other holds any.
    /// Band-streamed and reduced-scale decodes need little and pass at once.
    /// </summary>
    [Range(1L, long.MaxValue)]
    public long MaxDecodeBytesInFlight { get; init; } = 512L * 1024 * 1024;

    [Range(1, int.MaxValue)]
    public int MinWidth { get; init; } = 1;

    [Range(1, int.MaxValue)]
    public int MinHeight { get; init; } = 1;

    public static ImageLimits Default { get; } = new();
}
