using AlexNet.Imaging;
using AlexNet.Testing.Encoders;
using SkiaSharp;

namespace AlexNet.Testing;

/// <summary>
/// Deterministic small images in every accepted format, drawn with SkiaSharp and encoded by Skia (JPEG, PNG,
/// WebP) or by the encoders in <see cref="Encoders"/> (GIF, BMP); plus the real photos of Debian's
/// gnome-backgrounds package where it is installed.
/// </summary>
public static class SampleImages
{
    public const string GnomeBackgroundsFolder = "/usr/share/backgrounds/gnome";

    public static IReadOnlyList<ImageFormat> Formats { get; } =
        [ImageFormat.Jpeg, ImageFormat.Png, ImageFormat.Gif, ImageFormat.Bmp, ImageFormat.WebP];

    /// <summary>One colour everywhere.</summary>
    public static byte[] Solid(ImageFormat format, int width, int height, SKColor color, int quality = 95) =>
        Draw(format, width, height, canvas => canvas.Clear(color), quality);

    /// <summary>
    /// Equal bands across the longer side (left to right when landscape, top to bottom when portrait), so a
    /// test can see which part a centre crop kept.
    /// </summary>
    public static byte[] Bands(ImageFormat format, int width, int height, IReadOnlyList<SKColor> colors, int quality = 95)
    {
        ArgumentNullException.ThrowIfNull(colors);
        return Draw(format, width, height, canvas =>
        {
            var landscape = width >= height;
            var longer = landscape ? width : height;
            for (var i = 0; i < colors.Count; i++)
            {
                var from = (float)longer * i / colors.Count;
                var to = (float)longer * (i + 1) / colors.Count;
                var rect = landscape ? new SKRect(from, 0, to, height) : new SKRect(0, from, width, to);
                using var paint = new SKPaint { Color = colors[i], IsAntialias = false };
                canvas.DrawRect(rect, paint);
            }
        }, quality);
    }

    /// <summary>A grey image stored as one channel where the format allows it (JPEG, PNG, BMP palette).</summary>
    public static byte[] Gray(ImageFormat format, int width, int height, byte level, int quality = 95)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        bitmap.Erase(new SKColor(level, level, level));
        return Encode(bitmap, format, quality);
    }

    /// <summary>
    /// A photo-like picture (smooth gradient, soft shapes, sensor-like noise), deterministic for a seed; JPEGs
    /// of it compress like real photos, which flat test cards do not.
    /// </summary>
    public static SKBitmap Photo(int width, int height, int seed)
    {
        var random = new Random(seed);
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(bitmap))
        {
            using var sky = new SKPaint
            {
                Shader = SKShader.CreateLinearGradient(
                    new SKPoint(0, 0),
                    new SKPoint(width * 0.3f, height),
                    [RandomColor(random), RandomColor(random), RandomColor(random)],
                    SKShaderTileMode.Clamp),
            };
            canvas.DrawRect(0, 0, width, height, sky);
            for (var i = 0; i < 24; i++)
            {
                using var blob = new SKPaint
                {
                    Color = RandomColor(random).WithAlpha((byte)random.Next(60, 200)),
                    IsAntialias = true,
                    MaskFilter = SKMaskFilter.CreateBlur(SKBlurStyle.Normal, random.Next(1, 6)),
                };
                var x = random.Next(width);
                var y = random.Next(height);
                var r = random.Next(Math.Max(2, Math.Min(width, height) / 20), Math.Max(3, Math.Min(width, height) / 4));
                if (i % 2 == 0)
                {
                    canvas.DrawCircle(x, y, r, blob);
                }
                else
                {
                    canvas.DrawRect(x - r, y - (r / 2), r * 1.5f, r, blob);
                }
            }
        }

        var pixels = bitmap.GetPixelSpan();
        var noise = new byte[width * height];
        random.NextBytes(noise);
        for (var p = 0; p < noise.Length; p++)
        {
            var delta = (noise[p] % 17) - 8;
            for (var c = 0; c < 3; c++)
            {
                var i = (p * 4) + c;
                pixels[i] = (byte)Math.Clamp(pixels[i] + delta, 0, 255);
            }
        }

        return bitmap;
    }

    public static byte[] PhotoJpeg(int width, int height, int seed, int quality = 90)
    {
        using var bitmap = Photo(width, height, seed);
        return Encode(bitmap, ImageFormat.Jpeg, quality);
    }

    /// <summary>A small photo-like image in each format: valid inputs for truncation and mutation.</summary>
    public static IReadOnlyList<(ImageFormat Format, byte[] Bytes)> SmallPhotos(int width = 64, int height = 48, int seed = 7)
    {
        using var bitmap = Photo(width, height, seed);
        return Formats.Select(f => (f, Encode(bitmap, f, 85))).ToList();
    }

    public static byte[] Draw(ImageFormat format, int width, int height, Action<SKCanvas> draw, int quality = 95)
    {
        ArgumentNullException.ThrowIfNull(draw);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.Transparent);
            draw(canvas);
        }

        return Encode(bitmap, format, quality);
    }

    /// <summary>
    /// Encodes a bitmap. WebP at quality 100 is lossless; JPEG and lossy WebP use 4:2:0 chroma like most photos.
    /// </summary>
    public static byte[] Encode(SKBitmap bitmap, ImageFormat format, int quality = 95)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        switch (format)
        {
            case ImageFormat.Gif:
                return GifWriter.Write(bitmap);
            case ImageFormat.Bmp:
                return BmpWriter.Write(bitmap);
        }

        using var pixmap = bitmap.PeekPixels();
        using var data = format switch
        {
            ImageFormat.Jpeg => pixmap.Encode(new SKJpegEncoderOptions(quality)),
            ImageFormat.Png => pixmap.Encode(new SKPngEncoderOptions(SKPngEncoderFilterFlags.AllFilters, 6)),
            ImageFormat.WebP => pixmap.Encode(new SKWebpEncoderOptions(
                quality >= 100 ? SKWebpEncoderCompression.Lossless : SKWebpEncoderCompression.Lossy, quality)),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
        };
        return data?.ToArray() ?? throw new InvalidOperationException($"Skia could not encode {format}.");
    }

    /// <summary>
    /// Paths of the real pictures in Debian's gnome-backgrounds package (JPEG, PNG, WebP), sorted; empty when
    /// the package is not installed. Debian 12's package ships WebP only.
    /// </summary>
    public static IReadOnlyList<string> GnomeBackgrounds(string folder = GnomeBackgroundsFolder)
    {
        if (!Directory.Exists(folder))
        {
            return [];
        }

        string[] extensions = [".jpg", ".jpeg", ".png", ".webp"];
        return Directory.EnumerateFiles(folder)
            .Where(p => extensions.Contains(Path.GetExtension(p).ToLowerInvariant()))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static SKColor RandomColor(Random random) =>
        new((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
}
