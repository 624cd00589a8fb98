using AlexNet.Imaging.Headers;
using SkiaSharp;

namespace AlexNet.Imaging;

/// <summary>
/// Turns encoded bytes into the network's square "base image" (shorter side resized to the base size, centre
/// crop), or a rejection with a reason. Never throws for bad input, and never allocates a pixel buffer before
/// the header has passed <see cref="ImageLimits"/>. Thread-safe: it holds no mutable state, and every Skia
/// object lives and dies inside one call.
/// </summary>
/// <remarks>
/// Transparent pixels are composited on black (the decode is premultiplied, the alpha channel dropped).
/// Only the first frame of a GIF, animated WebP or APNG is decoded. EXIF orientation is applied wherever Skia
/// reports one (JPEG, and WebP/PNG that carry EXIF). Colours are converted to sRGB from any embedded ICC
/// profile, so CMYK and wide-gamut files come out as 8-bit sRGB.
/// </remarks>
public sealed class ImageDecoder(ImageLimits limits)
{
    public const int DefaultBaseSize = 256;

    public const int MaxBaseSize = 4096;

    private static readonly SKColorSpace Srgb = SKColorSpace.CreateSrgb();

    private readonly DecodeMemoryGate memory = new((limits ?? ImageLimits.Default).MaxDecodeBytesInFlight);

    /// <summary>The gate on full-size pixel buffers (for tests).</summary>
    internal DecodeMemoryGate Memory => memory;

    public ImageDecoder()
        : this(ImageLimits.Default)
    {
    }

    public ImageLimits Limits { get; } = limits ?? throw new ArgumentNullException(nameof(limits));

    /// <summary>Reads and checks the header only: size, format by content, dimensions, frame count.</summary>
    public ImageProbeResult Probe(ReadOnlySpan<byte> data) => HeaderProbe.Probe(data, Limits);

    /// <summary>Decodes to a <paramref name="baseSize"/> x <paramref name="baseSize"/> RGB image.</summary>
    public ImageDecodeResult Decode(ReadOnlySpan<byte> data, int baseSize = DefaultBaseSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(baseSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(baseSize, MaxBaseSize);

        var probe = Probe(data);
        if (!probe.IsAccepted)
        {
            return ImageDecodeResult.Rejected(probe.Rejection, probe.Header);
        }

        try
        {
            return DecodeAccepted(data, probe.Header, baseSize);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException)
        {
            // SkiaSharp reports some native refusals as managed exceptions; to callers they are bad input.
            return Rejected(RejectionCode.DecodeFailed, Reasons.Format($"The {probe.Header.Format.Name()} could not be decoded: {e.Message}"), probe.Header);
        }
    }

    private unsafe ImageDecodeResult DecodeAccepted(ReadOnlySpan<byte> data, ImageHeader header, int baseSize)
    {
        var name = header.Format.Name();
        fixed (byte* source = data)
        {
            // Wraps the caller's bytes without a copy; the codec is disposed before the pin is released.
            using var encoded = SKData.Create((IntPtr)source, data.Length);
            using var codec = SKCodec.Create(encoded);
            if (codec is null)
            {
                return Rejected(RejectionCode.Corrupt, Reasons.Format($"The {name} header passed the probe but Skia could not read it."), header);
            }

            // Only the five codecs the probe vetted may run, whatever else Skia's own sniffing would pick.
            if (codec.EncodedFormat != ToSkia(header.Format))
            {
                return Rejected(RejectionCode.DecodeFailed, Reasons.Format($"The content reads as {name} by its signature but Skia took it for {codec.EncodedFormat}."), header);
            }

            // Skia's own reading of the header is the one the decode follows: hold it to the same limits.
            var info = codec.Info;
            if (Reasons.CheckDimensions(name, info.Width, info.Height, Limits, header) is { } outOfBounds)
            {
                return ImageDecodeResult.Rejected(outOfBounds.Rejection!, header);
            }

            // The decoded buffer (full size, or natively scaled for JPEG and WebP) is held to the decoder's budget of
            // bytes in flight: Skia decodes PNG, GIF and BMP only whole (its PNG codec has no scanline decoder), so an
            // 80-megapixel PNG needs 320 MB however small the file.
            var size = ChooseDecodeSize(codec, baseSize);
            var lease = memory.Enter(BufferBytes(size));
            try
            {
                var result = Decode(codec, size, out var decoded);
                if (result == SKCodecResult.InvalidScale && size != info.Size)
                {
                    lease.Dispose();
                    lease = default;
                    lease = memory.Enter(BufferBytes(info.Size));
                    result = Decode(codec, info.Size, out decoded);
                }

                if (result != SKCodecResult.Success)
                {
                    return Rejected(CodeFor(result), ReasonFor(result, name), header);
                }

                using (decoded)
                {
                    using var square = Resample(decoded!, baseSize);
                    return ImageDecodeResult.Decoded(ToRgb(square, codec.EncodedOrigin), header);
                }
            }
            finally
            {
                lease.Dispose();
            }
        }
    }

    /// <summary>
    /// The smallest size the codec can produce natively (JPEG's DCT scaling to n/8, WebP's rescaler) whose
    /// shorter side still reaches the base size: decoding fewer pixels is most of the speed.
    /// </summary>
    private static SKSizeI ChooseDecodeSize(SKCodec codec, int baseSize)
    {
        var full = codec.Info.Size;
        var shorter = Math.Min(full.Width, full.Height);
        if (shorter <= baseSize)
        {
            return full;
        }

        var best = full;
        void Consider(SKSizeI candidate)
        {
            if (candidate.Width > 0 && candidate.Height > 0
                && Math.Min(candidate.Width, candidate.Height) >= baseSize
                && (long)candidate.Width * candidate.Height < (long)best.Width * best.Height)
            {
                best = candidate;
            }
        }

        for (var eighths = 1; eighths < 8; eighths++)
        {
            Consider(codec.GetScaledDimensions(eighths / 8f));
        }

        Consider(codec.GetScaledDimensions((float)baseSize / shorter));
        return best;
    }

    /// <summary>The decoded buffer and the halvings the resample makes of it (at most a third more).</summary>
    private static long BufferBytes(SKSizeI size)
    {
        var bytes = new SKImageInfo(size.Width, size.Height, SKImageInfo.PlatformColorType).BytesSize64;
        return bytes + (bytes / 3);
    }

    /// <summary>Decodes the first frame at <paramref name="size"/> into a pooled buffer.</summary>
    private static SKCodecResult Decode(SKCodec codec, SKSizeI size, out PooledPixels? pixels)
    {
        // N32 (BGRA here) is the layout libjpeg-turbo writes directly and Skia's fast bilinear path reads.
        var alpha = codec.Info.AlphaType == SKAlphaType.Opaque ? SKAlphaType.Opaque : SKAlphaType.Premul;
        var info = new SKImageInfo(size.Width, size.Height, SKImageInfo.PlatformColorType, alpha, Srgb);
        pixels = PooledPixels.Rent(info);
        if (pixels is null)
        {
            return SKCodecResult.InvalidParameters;
        }

        var result = codec.GetPixels(info, pixels.Address, pixels.RowBytes, SKCodecOptions.Default);
        if (result != SKCodecResult.Success)
        {
            pixels.Dispose();
            pixels = null;
        }

        return result;
    }

    /// <summary>
    /// Shorter side to the base size, then the centred square, composited on black. Shrinking halves the image
    /// (an exact 2x2 box average) while the half is still at least the base size, then one bilinear step of
    /// under 2x: a mipmap pyramid built only as deep as needed, on Skia's fast N32 path. Enlarging uses
    /// Mitchell cubic.
    /// </summary>
    private static PooledPixels Resample(PooledPixels decoded, int baseSize)
    {
        var current = decoded;
        try
        {
            while (Math.Min(current.Info.Width, current.Info.Height) / 2 >= baseSize)
            {
                var halfWidth = current.Info.Width / 2;
                var halfHeight = current.Info.Height / 2;
                var half = PooledPixels.Rent(current.Info.WithSize(halfWidth, halfHeight))!;
                Draw(current, SKRect.Create(0, 0, halfWidth * 2, halfHeight * 2), half, new SKSamplingOptions(SKFilterMode.Linear));
                if (current != decoded)
                {
                    current.Dispose();
                }

                current = half;
            }

            var side = Math.Min(current.Info.Width, current.Info.Height);
            var crop = SKRect.Create((current.Info.Width - side) / 2f, (current.Info.Height - side) / 2f, side, side);
            var square = PooledPixels.Rent(new SKImageInfo(baseSize, baseSize, SKImageInfo.PlatformColorType, SKAlphaType.Premul, Srgb))!;
            var sampling = side >= baseSize
                ? new SKSamplingOptions(SKFilterMode.Linear)
                : new SKSamplingOptions(SKCubicResampler.Mitchell);
            Draw(current, crop, square, sampling);
            return square;
        }
        finally
        {
            if (current != decoded)
            {
                current.Dispose();
            }
        }
    }

    private static void Draw(PooledPixels source, SKRect sourceRect, PooledPixels target, SKSamplingOptions sampling)
    {
        using var image = source.ToImage();
        using var surface = target.ToSurface();
        var canvas = surface.Canvas;

        // Transparent pixels end up composited on black.
        canvas.Clear(SKColors.Black);
        canvas.DrawImage(image, sourceRect, SKRect.Create(0, 0, target.Info.Width, target.Info.Height), sampling);
        surface.Flush();
    }

    /// <summary>Drops alpha (already composited on black) and applies the EXIF orientation in one pass.</summary>
    private static RgbImage ToRgb(PooledPixels square, SKEncodedOrigin origin)
    {
        var n = square.Info.Width;
        var source = square.Bytes;
        var (r, g, b) = square.Info.ColorType == SKColorType.Bgra8888 ? (2, 1, 0) : (0, 1, 2);
        var rgb = GC.AllocateUninitializedArray<byte>(n * n * 3);
        var last = n - 1;
        var o = 0;
        for (var y = 0; y < n; y++)
        {
            for (var x = 0; x < n; x++, o += 3)
            {
                // (x, y) is the displayed position; find the stored pixel that belongs there.
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (last - x, y),
                    SKEncodedOrigin.BottomRight => (last - x, last - y),
                    SKEncodedOrigin.BottomLeft => (x, last - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, last - x),
                    SKEncodedOrigin.RightBottom => (last - y, last - x),
                    SKEncodedOrigin.LeftBottom => (last - y, x),
                    _ => (x, y),
                };
                var i = ((sy * n) + sx) * 4;
                rgb[o] = source[i + r];
                rgb[o + 1] = source[i + g];
                rgb[o + 2] = source[i + b];
            }
        }

        return new RgbImage(n, n, rgb);
    }

    private static SKEncodedImageFormat ToSkia(ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => SKEncodedImageFormat.Jpeg,
        ImageFormat.Png => SKEncodedImageFormat.Png,
        ImageFormat.Gif => SKEncodedImageFormat.Gif,
        ImageFormat.Bmp => SKEncodedImageFormat.Bmp,
        _ => SKEncodedImageFormat.Webp,
    };

    private static RejectionCode CodeFor(SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput => RejectionCode.Truncated,
        SKCodecResult.ErrorInInput or SKCodecResult.InvalidInput => RejectionCode.Corrupt,
        _ => RejectionCode.DecodeFailed,
    };

    private static string ReasonFor(SKCodecResult result, string name) => result switch
    {
        SKCodecResult.IncompleteInput =>
            Reasons.Format($"The {name}'s pixel data ends early (Skia: IncompleteInput); part of the image would be blank."),
        SKCodecResult.ErrorInInput or SKCodecResult.InvalidInput =>
            Reasons.Format($"The {name}'s pixel data is malformed (Skia: {result})."),
        _ => Reasons.Format($"The {name} passed every header check but Skia could not decode it ({result})."),
    };

    private static ImageDecodeResult Rejected(RejectionCode code, string reason, ImageHeader header) =>
        ImageDecodeResult.Rejected(new ImageRejection(code, reason), header);
}
