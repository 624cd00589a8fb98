using System.Globalization;

namespace AlexNet.Imaging.Headers;

/// <summary>Shared wording, so every rejection reads as one sentence with its numbers, invariant culture.</summary>
internal static class Reasons
{
    public static string Name(this ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => "JPEG",
        ImageFormat.Png => "PNG",
        ImageFormat.Gif => "GIF",
        ImageFormat.Bmp => "BMP",
        ImageFormat.WebP => "WebP",
        _ => format.ToString(),
    };

    public static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    public static string Mebibytes(long bytes) => Format($"{bytes / 1048576.0:0.0} MiB");

    public static bool WithinLimits(long width, long height, ImageLimits limits) =>
        width >= limits.MinWidth && height >= limits.MinHeight
        && width <= limits.MaxWidth && height <= limits.MaxHeight
        && width * height <= limits.MaxPixels;

    /// <summary>
    /// Checks declared dimensions against the limits; <paramref name="subject"/> names what declared them
    /// ("PNG", "GIF frame 3").
    /// </summary>
    public static ImageProbeResult? CheckDimensions(
        string subject, long width, long height, ImageLimits limits, ImageHeader? header)
    {
        if (width < limits.MinWidth || height < limits.MinHeight)
        {
            return ImageProbeResult.Rejected(
                RejectionCode.TooSmall,
                Format($"The {subject} declares {width}x{height} pixels; the smallest accepted is {limits.MinWidth}x{limits.MinHeight}."),
                header);
        }

        var pixels = width * height;
        if (pixels > limits.MaxPixels)
        {
            return ImageProbeResult.Rejected(
                RejectionCode.TooManyPixels,
                Format($"The {subject} declares {width}x{height} ({pixels / 1e6:0.0} MP), over the {limits.MaxPixels / 1e6:0.#} MP limit."),
                header);
        }

        if (width > limits.MaxWidth || height > limits.MaxHeight)
        {
            return ImageProbeResult.Rejected(
                RejectionCode.DimensionsTooLarge,
                Format($"The {subject} declares {width}x{height} pixels; the largest accepted is {limits.MaxWidth}x{limits.MaxHeight}."),
                header);
        }

        return null;
    }

    public static ImageProbeResult TooManyFrames(string subject, string unit, ImageLimits limits, ImageHeader header) =>
        ImageProbeResult.Rejected(
            RejectionCode.TooManyFrames,
            Format($"The {subject} has more than {limits.MaxFrames} {unit} (counted from its block structure, without decoding), over the limit of {limits.MaxFrames}."),
            header);
}
