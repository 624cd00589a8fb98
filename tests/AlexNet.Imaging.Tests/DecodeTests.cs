using AlexNet.Testing;
using AlexNet.Testing.Encoders;
using SkiaSharp;

namespace AlexNet.Imaging.Tests;

public class DecodeTests
{
    private readonly ImageDecoder decoder = new();

    public static TheoryData<ImageFormat> AllFormats => [.. SampleImages.Formats];

    [Theory]
    [MemberData(nameof(AllFormats))]
    public void SolidRedDecodesToRedPixelsInEveryFormat(ImageFormat format)
    {
        var result = decoder.Decode(SampleImages.Solid(format, 300, 200, SKColors.Red));

        Assert.True(result.IsDecoded, result.ToString());
        Assert.Equal(format, result.Header!.Format);
        Assert.Equal((300, 200), (result.Header.Width, result.Header.Height));
        Assert.Equal(256, result.Image.Width);
        Assert.Equal(256, result.Image.Height);
        Assert.Equal(256 * 256 * 3, result.Image.Pixels.Length);
        foreach (var (x, y) in new[] { (0, 0), (255, 0), (128, 128), (0, 255), (255, 255) })
        {
            AssertNear(result.Image, x, y, (255, 0, 0), tolerance: 6);
        }
    }

    [Theory]
    [InlineData(224)]
    [InlineData(64)]
    [InlineData(512)]
    public void BaseImageIsASquareOfTheRequestedSize(int baseSize)
    {
        var result = decoder.Decode(SampleImages.PhotoJpeg(640, 480, seed: 1), baseSize);

        Assert.True(result.IsDecoded, result.ToString());
        Assert.Equal((baseSize, baseSize), (result.Image.Width, result.Image.Height));
    }

    [Theory]
    [InlineData(ImageFormat.Png, 800, 200)]
    [InlineData(ImageFormat.Png, 200, 800)]
    [InlineData(ImageFormat.Jpeg, 1600, 400)]
    [InlineData(ImageFormat.Jpeg, 400, 1600)]
    [InlineData(ImageFormat.WebP, 2000, 500)]
    [InlineData(ImageFormat.Bmp, 200, 800)]
    public void CentreCropKeepsTheMiddleOfTheLongerSide(ImageFormat format, int width, int height)
    {
        // Four equal bands along the longer side: the centre square spans the end of band 2 and the start of
        // band 3, so the base image is half green, half blue, split at its middle.
        var bytes = SampleImages.Bands(format, width, height, [SKColors.Red, SKColors.Lime, SKColors.Blue, SKColors.Yellow], quality: 100);

        var result = decoder.Decode(bytes);

        Assert.True(result.IsDecoded, result.ToString());
        var landscape = width > height;
        for (var along = 0; along < 256; along += 5)
        {
            if (Math.Abs(along - 128) < 6)
            {
                continue; // the band edge, blended by the filter
            }

            for (var across = 0; across < 256; across += 51)
            {
                var (x, y) = landscape ? (along, across) : (across, along);
                var expected = along < 128 ? (0, 255, 0) : (0, 0, 255);
                AssertNear(result.Image, x, y, expected, tolerance: 12);
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllFormats))]
    public void GrayscaleGivesThreeEqualChannels(ImageFormat format)
    {
        var result = decoder.Decode(SampleImages.Gray(format, 300, 280, 77));

        Assert.True(result.IsDecoded, result.ToString());
        for (var i = 0; i < result.Image.Pixels.Length; i += 3 * 97)
        {
            var (r, g, b) = (result.Image.Pixels[i], result.Image.Pixels[i + 1], result.Image.Pixels[i + 2]);
            Assert.Equal(r, g);
            Assert.Equal(g, b);
            Assert.InRange(r, 74, 80);
        }
    }

    [Fact]
    public void TransparencyIsCompositedOnBlack()
    {
        // Left half opaque white, right half white at alpha 128.
        var bytes = SampleImages.Draw(ImageFormat.Png, 256, 256, canvas =>
        {
            using var opaque = new SKPaint { Color = SKColors.White };
            using var half = new SKPaint { Color = SKColors.White.WithAlpha(128) };
            canvas.DrawRect(0, 0, 128, 256, opaque);
            canvas.DrawRect(128, 0, 128, 256, half);
        });

        var result = decoder.Decode(bytes);

        Assert.True(result.IsDecoded, result.ToString());
        AssertNear(result.Image, 40, 100, (255, 255, 255), tolerance: 1);
        AssertNear(result.Image, 200, 100, (128, 128, 128), tolerance: 2);
    }

    [Fact]
    public void PalettePngWithTransparencyDecodesToRgb()
    {
        byte[] palette = [255, 0, 0, 0, 0, 255];
        byte[] alpha = [255, 0];
        var rows = new byte[64 * 64];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = (byte)(i % 64 < 32 ? 0 : 1);
        }

        var result = decoder.Decode(PngWriter.Write(64, 64, 8, PngWriter.Palette, rows, palette, alpha), 64);

        Assert.True(result.IsDecoded, result.ToString());
        AssertNear(result.Image, 10, 10, (255, 0, 0), tolerance: 0);
        AssertNear(result.Image, 50, 10, (0, 0, 0), tolerance: 0); // index 1 is fully transparent
    }

    [Theory]
    [InlineData(0, 255, 255, 0, 255, 0, 0)]
    [InlineData(0, 0, 0, 0, 255, 255, 255)]
    [InlineData(0, 0, 0, 255, 0, 0, 0)]
    [InlineData(255, 0, 255, 0, 0, 255, 0)]
    public void CmykJpegDecodesToRgb(byte c, byte m, byte y, byte k, int r, int g, int b)
    {
        var result = decoder.Decode(CmykJpegWriter.Solid(48, 40, c, m, y, k), 32);

        Assert.True(result.IsDecoded, result.ToString());
        AssertNear(result.Image, 16, 16, (r, g, b), tolerance: 3);
    }

    [Fact]
    public void SixteenBitPngDecodesToEightBitRgb()
    {
        // 16-bit RGB, every sample 0x8000 (the middle of the range).
        var rows = new byte[32 * 32 * 6];
        for (var i = 0; i < rows.Length; i += 2)
        {
            rows[i] = 0x80;
        }

        var result = decoder.Decode(PngWriter.Write(32, 32, 16, PngWriter.Rgb, rows), 32);

        Assert.True(result.IsDecoded, result.ToString());
        AssertNear(result.Image, 16, 16, (128, 128, 128), tolerance: 1);
    }

    [Theory]
    [InlineData(1, "left-red")]
    [InlineData(2, "left-blue")]
    [InlineData(3, "left-blue")]
    [InlineData(6, "top-red")]
    [InlineData(8, "top-blue")]
    public void ExifOrientationIsApplied(int orientation, string expected)
    {
        // Stored: left half red, right half blue.
        var stored = SampleImages.Bands(ImageFormat.Jpeg, 320, 320, [SKColors.Red, SKColors.Blue], quality: 100);

        var result = decoder.Decode(JpegEditor.WithExifOrientation(stored, orientation));

        Assert.True(result.IsDecoded, result.ToString());
        var (first, second) = expected.EndsWith("red", StringComparison.Ordinal)
            ? ((255, 0, 0), (0, 0, 255))
            : ((0, 0, 255), (255, 0, 0));
        if (expected.StartsWith("left", StringComparison.Ordinal))
        {
            AssertNear(result.Image, 40, 128, first, tolerance: 12);
            AssertNear(result.Image, 215, 128, second, tolerance: 12);
        }
        else
        {
            AssertNear(result.Image, 128, 40, first, tolerance: 12);
            AssertNear(result.Image, 128, 215, second, tolerance: 12);
        }
    }

    [Fact]
    public void ShrinkingAveragesInsteadOfSkippingPixels()
    {
        // A one-pixel black and white checkerboard: a point-sampling resize gives black or white, a filtering
        // one gives grey everywhere.
        var rows = new byte[2048 * 2048];
        for (var y = 0; y < 2048; y++)
        {
            for (var x = 0; x < 2048; x++)
            {
                rows[(y * 2048) + x] = (byte)((x + y) % 2 == 0 ? 0 : 255);
            }
        }

        var result = decoder.Decode(PngWriter.Write(2048, 2048, 8, PngWriter.Gray, rows));

        Assert.True(result.IsDecoded, result.ToString());
        for (var i = 0; i < result.Image.Pixels.Length; i += 3 * 101)
        {
            Assert.InRange(result.Image.Pixels[i], 120, 135);
        }
    }

    [Fact]
    public void LargeJpegUsesScaledDecodeAndKeepsItsColours()
    {
        var result = decoder.Decode(SampleImages.Solid(ImageFormat.Jpeg, 4000, 3000, new SKColor(30, 140, 220), quality: 90));

        Assert.True(result.IsDecoded, result.ToString());
        AssertNear(result.Image, 128, 128, (30, 140, 220), tolerance: 6);
    }

    [Fact]
    public void SmallImagesAreEnlargedToTheBaseSize()
    {
        var result = decoder.Decode(SampleImages.Solid(ImageFormat.Png, 28, 28, SKColors.Green));

        Assert.True(result.IsDecoded, result.ToString());
        Assert.Equal(256, result.Image.Width);
        AssertNear(result.Image, 128, 128, (0, 128, 0), tolerance: 1);
    }

    [Fact]
    public void GifDecodesOnlyItsFirstFrame()
    {
        var palette = new byte[768];
        palette[3] = 255; // index 1: red
        palette[8] = 255; // index 2: blue
        var first = Enumerable.Repeat((byte)1, 16 * 16).ToArray();
        var second = Enumerable.Repeat((byte)2, 16 * 16).ToArray();
        var gif = GifWriter.Write(16, 16, palette, [new GifFrame(0, 0, 16, 16, first), new GifFrame(0, 0, 16, 16, second)]);

        var result = decoder.Decode(gif, 16);

        Assert.True(result.IsDecoded, result.ToString());
        Assert.Equal(2, result.Header!.FrameCount);
        AssertNear(result.Image, 8, 8, (255, 0, 0), tolerance: 0);
    }

    [Fact]
    public void GnomeBackgroundsDecodeWhenInstalled()
    {
        var files = SampleImages.GnomeBackgrounds();
        if (files.Count == 0)
        {
            Assert.False(Directory.Exists(SampleImages.GnomeBackgroundsFolder) && Directory.EnumerateFiles(SampleImages.GnomeBackgroundsFolder, "*.webp").Any());
            return;
        }

        foreach (var file in files.Take(3))
        {
            var result = decoder.Decode(File.ReadAllBytes(file));
            Assert.True(result.IsDecoded, $"{file}: {result}");
            Assert.Equal(256, result.Image.Width);
        }
    }

    internal static void AssertNear(RgbImage image, int x, int y, (int R, int G, int B) expected, int tolerance)
    {
        var (r, g, b) = image.GetPixel(x, y);
        var close = Math.Abs(r - expected.R) <= tolerance
            && Math.Abs(g - expected.G) <= tolerance
            && Math.Abs(b - expected.B) <= tolerance;
        Assert.True(close, $"pixel ({x}, {y}) is ({r}, {g}, {b}), expected {expected} within {tolerance}");
    }
}
