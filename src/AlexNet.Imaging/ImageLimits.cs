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

    /// <summary>Largest width x height accepted; 80 MP decodes to a 320 MB RGBA buffer at full size.</summary>
    [Range(1L, long.MaxValue)]
    public long MaxPixels { get; init; } = 80_000_000;

    /// <summary>
    /// Most frames a GIF, animated WebP or APNG may declare. Only the first frame is ever decoded; the limit
    /// bounds the work spent walking a file's frame structure. For progressive JPEGs it bounds the number of
    /// scans, each of which is a pass over the whole coefficient buffer.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int MaxFrames { get; init; } = 1000;

    [Range(1, int.MaxValue)]
    public int MinWidth { get; init; } = 1;

    [Range(1, int.MaxValue)]
    public int MinHeight { get; init; } = 1;

    public static ImageLimits Default { get; } = new();
}
