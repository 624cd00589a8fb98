using System.IO.Compression;
using AlexNet.Testing;
using AlexNet.Testing.Encoders;
using SkiaSharp;

namespace AlexNet.Imaging.Tests;

/// <summary>
/// Large images within the limits: their full-size buffers (PNG, GIF and BMP decode whole) wait for the decoder's
/// budget of bytes in flight and are freed when the decode ends, not at the next full collection.
/// </summary>
public sealed class LargeImageTests
{
    [Fact]
    public void An80MegapixelPngDecodesInAFewMegabytesAndKeepsItsPicture()
    {
        // 10000 x 8000: left half red, right half blue. 77 KB-class files like this decoded into a 320 MB buffer each.
        const int width = 10_000, height = 8_000;
        byte[] png = SplitPng(width, height);
        var decoder = new ImageDecoder();

        Assert.True(decoder.Decode(png).IsDecoded); // the first decode fills the pools the halvings rent from
        long before = GC.GetAllocatedBytesForCurrentThread();
        ImageDecodeResult result = decoder.Decode(png);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(result.IsDecoded, result.ToString());
        // The 320 MB buffer is native memory freed when the decode ends (it was a managed array left to the GC).
        Assert.True(allocated < 16L * 1024 * 1024, $"allocated {allocated:N0} managed bytes for an 80-megapixel PNG");
        Assert.Equal(Charged(width, height), decoder.Memory.Peak);
        Assert.Equal(0, decoder.Memory.Held);
        RgbImage image = result.Image!;
        Assert.Equal(((byte)255, (byte)0, (byte)0), image.GetPixel(20, 128));
        Assert.Equal(((byte)0, (byte)0, (byte)255), image.GetPixel(235, 128));
    }

    [Fact]
    public async Task FullSizeDecodesOnManyThreadsStayWithinTheBudget()
    {
        // Each 2000 x 2000 BMP needs a 16 MB buffer; the budget holds one at a time.
        using SKBitmap photo = SampleImages.Photo(2000, 2000, seed: 5);
        byte[] bmp = BmpWriter.Write(photo);
        long buffer = Charged(2000, 2000);
        var decoder = new ImageDecoder(new ImageLimits { MaxDecodeBytesInFlight = buffer + (buffer / 2) });
        byte[] expected = decoder.Decode(bmp).Image!.Pixels;

        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() =>
        {
            ImageDecodeResult result = decoder.Decode(bmp);
            Assert.True(result.IsDecoded, result.ToString());
            Assert.Equal(expected, result.Image!.Pixels);
        })));

        Assert.Equal(buffer, decoder.Memory.Peak);
        Assert.Equal(0, decoder.Memory.Held);
    }

    [Fact]
    public void ADecodeLargerThanTheWholeBudgetStillRuns()
    {
        using SKBitmap photo = SampleImages.Photo(1200, 900, seed: 9);
        var decoder = new ImageDecoder(new ImageLimits { MaxDecodeBytesInFlight = 1024 });
        Assert.True(decoder.Decode(BmpWriter.Write(photo)).IsDecoded);
        Assert.Equal(0, decoder.Memory.Held);
    }

    [Fact]
    public void ALargePngCutShortIsTruncatedNotHalfGrey()
    {
        byte[] png = SplitPng(4000, 3000);
        // Keep the headers and half of the pixel data.
        byte[] cut = png.AsSpan(0, png.Length / 2).ToArray();
        ImageDecodeResult result = new ImageDecoder().Decode(cut);
        Assert.False(result.IsDecoded);
        Assert.Equal(RejectionCode.Truncated, result.Rejection?.Code);
    }

    /// <summary>What a full-size decode holds: the BGRA buffer and the resample's halvings of it (a third more).</summary>
    private static long Charged(int width, int height) => (width * 4L * height) + (width * 4L * height / 3);

    /// <summary>An RGB PNG, left half red and right half blue, deflated row by row (no full-size buffer in the test either).</summary>
    private static byte[] SplitPng(int width, int height)
    {
        var row = new byte[1 + (width * 3)];
        for (var x = 0; x < width; x++)
        {
            row[1 + (x * 3) + (x < width / 2 ? 0 : 2)] = 255;
        }

        using var idat = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionLevel.Fastest, leaveOpen: true))
        {
            for (var y = 0; y < height; y++)
            {
                zlib.Write(row);
            }
        }

        using var file = new MemoryStream();
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        file.Write(PngWriter.Chunk("IHDR", PngWriter.Ihdr(width, height, 8, PngWriter.Rgb)));
        file.Write(PngWriter.Chunk("IDAT", idat.ToArray()));
        file.Write(PngWriter.Chunk("IEND", []));
        return file.ToArray();
    }
}
