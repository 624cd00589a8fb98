namespace AlexNet.Imaging.Headers;

/// <summary>
/// The cheap gate in front of every decode: size, format by content, then the format's own header walk, all
/// on the caller's bytes with no copy and no allocation that grows with the input.
/// </summary>
internal static class HeaderProbe
{
    public static ImageProbeResult Probe(ReadOnlySpan<byte> data, ImageLimits limits)
    {
        if (data.IsEmpty)
        {
            return ImageProbeResult.Rejected(RejectionCode.Empty, "The file is empty (0 bytes).");
        }

        if (data.Length > limits.MaxBytes)
        {
            return ImageProbeResult.Rejected(
                RejectionCode.TooManyBytes,
                Reasons.Format($"The file is {Reasons.Mebibytes(data.Length)} ({data.Length} bytes), over the {Reasons.Mebibytes(limits.MaxBytes)} limit."));
        }

        var format = FormatSniffer.Identify(data, out var rejection);
        return format switch
        {
            ImageFormat.Jpeg => JpegHeaderReader.Read(data, limits),
            ImageFormat.Png => PngHeaderReader.Read(data, limits),
            ImageFormat.Gif => GifHeaderReader.Read(data, limits),
            ImageFormat.Bmp => BmpHeaderReader.Read(data, limits),
            ImageFormat.WebP => WebPHeaderReader.Read(data, limits),
            _ => rejection!,
        };
    }
}
