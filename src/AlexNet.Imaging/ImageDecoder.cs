using System.Buffers;
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

    // Pixel buffers up to this size are rented; anything larger is rare and should not stay pooled.
    private const int MaxPooledBytes = 32 * 1024 * 1024;

    private static readonly SKColorSpace Srgb = SKColorSpace.CreateSrgb();

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

            // Skia's own reading of the header is the one the decode follows: hold it to the same limits.
            var info = codec.Info;
            if (Reasons.CheckDimensions(name, info.Width, info.Height, Limits, header) is { } outOfBounds)
            {
                return ImageDecodeResult.Rejected(outOfBounds.Rejection!, header);
            }

            var size = ChooseDecodeSize(codec, baseSize);
            var result = DecodeAndResample(codec, size, baseSize, out var rgba);
            if (result == SKCodecResult.InvalidScale && size != info.Size)
            {
                result = DecodeAndResample(codec, info.Size, baseSize, out rgba);
            }

            if (result != SKCodecResult.Success)
            {
                return Rejected(CodeFor(result), ReasonFor(result, name), header);
            }

            try
            {
                return ImageDecodeResult.Decoded(ToRgb(rgba!, baseSize, codec.EncodedOrigin), header);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rgba!);
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

    /// <summary>
    /// Decodes the first frame at <paramref name="size"/>, then draws its centred square, scaled to the base
    /// size, onto black. On success <paramref name="rgba"/> holds baseSize² RGBA pixels (rented).
    /// </summary>
    private static unsafe SKCodecResult DecodeAndResample(SKCodec codec, SKSizeI size, int baseSize, out byte[]? rgba)
    {
        rgba = null;
        var alpha = codec.Info.AlphaType == SKAlphaType.Opaque ? SKAlphaType.Opaque : SKAlphaType.Premul;
        var decodeInfo = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, alpha, Srgb);
        var rowBytes = size.Width * 4;
        var byteCount = (long)rowBytes * size.Height;
        if (byteCount > Array.MaxLength)
        {
            return SKCodecResult.InvalidParameters;
        }

        var pooled = byteCount <= MaxPooledBytes;
        var pixels = pooled
            ? ArrayPool<byte>.Shared.Rent((int)byteCount)
            : GC.AllocateUninitializedArray<byte>((int)byteCount);
        try
        {
            fixed (byte* decoded = pixels)
            {
                var result = codec.GetPixels(decodeInfo, (IntPtr)decoded, rowBytes, SKCodecOptions.Default);
                if (result != SKCodecResult.Success)
                {
                    return result;
                }

                using var image = SKImage.FromPixels(decodeInfo, (IntPtr)decoded, rowBytes);
                if (image is null)
                {
                    return SKCodecResult.InternalError;
                }

                rgba = ArrayPool<byte>.Shared.Rent(baseSize * baseSize * 4);
                Resample(image, baseSize, rgba);
                return SKCodecResult.Success;
            }
        }
        finally
        {
            if (pooled)
            {
                ArrayPool<byte>.Shared.Return(pixels);
            }
        }
    }

    private static unsafe void Resample(SKImage image, int baseSize, byte[] rgba)
    {
        var side = Math.Min(image.Width, image.Height);
        var source = SKRect.Create((image.Width - side) / 2f, (image.Height - side) / 2f, side, side);
        var target = SKRect.Create(0, 0, baseSize, baseSize);

        // Trilinear mipmaps average every source pixel when shrinking by any factor; Mitchell cubic keeps
        // edges when the decode already landed at (or under) the base size.
        var sampling = side > baseSize
            ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear)
            : new SKSamplingOptions(SKCubicResampler.Mitchell);

        var info = new SKImageInfo(baseSize, baseSize, SKColorType.Rgba8888, SKAlphaType.Premul, Srgb);
        fixed (byte* pixels = rgba)
        {
            using var surface = SKSurface.Create(info, (IntPtr)pixels, baseSize * 4)
                ?? throw new InvalidOperationException("Skia could not create a raster surface.");
            var canvas = surface.Canvas;
            canvas.Clear(SKColors.Black);
            canvas.DrawImage(image, source, target, sampling);
            surface.Flush();
        }
    }

    /// <summary>Drops alpha (already composited on black) and applies the EXIF orientation in one pass.</summary>
    private static RgbImage ToRgb(byte[] rgba, int n, SKEncodedOrigin origin)
    {
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
                rgb[o] = rgba[i];
                rgb[o + 1] = rgba[i + 1];
                rgb[o + 2] = rgba[i + 2];
            }
        }

        return new RgbImage(n, n, rgb);
    }

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
