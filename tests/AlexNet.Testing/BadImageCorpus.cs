using System.Buffers.Binary;
using System.Text;
using AlexNet.Imaging;
using AlexNet.Testing.Encoders;
using SkiaSharp;

namespace AlexNet.Testing;

/// <summary>
/// A seeded generator of bad inputs, each with a name and the expected outcome: empty and foreign files,
/// decompression bombs, malformed headers, truncations at many cut points, seeded bit flips and byte runs, and
/// valid images under lying names. Same seed, same bytes.
/// </summary>
public static class BadImageCorpus
{
    /// <summary>The hand-made cases, then <paramref name="truncations"/> cuts and <paramref name="mutations"/> mutants.</summary>
    public static IReadOnlyList<BadImage> Create(int seed = 1, int truncations = 200, int mutations = 300) =>
        [.. Fixed(), .. Truncated(seed, truncations), .. Mutated(seed, mutations)];

    /// <summary>The named, hand-made cases (about 30), each with one exact expectation.</summary>
    public static IReadOnlyList<BadImage> Fixed()
    {
        var jpeg = SampleImages.PhotoJpeg(64, 48, seed: 11);
        var png = SampleImages.Solid(ImageFormat.Png, 40, 30, SKColors.Teal);
        return
        [
            Rejected("empty.jpg", [], BadImageKind.Empty, RejectionCode.Empty),
            Rejected("one-byte.jpg", [(byte)'A'], BadImageKind.NotAnImage, RejectionCode.UnsupportedFormat),
            Rejected("one-byte-ff.jpg", [0xFF], BadImageKind.Truncated, RejectionCode.Truncated),
            Rejected("text.jpg", Encoding.UTF8.GetBytes("This is not a picture, just a note that someone saved as .jpg.\n"), BadImageKind.NotAnImage, RejectionCode.UnsupportedFormat),
            Rejected("page.png", Encoding.UTF8.GetBytes("<!DOCTYPE html>\n<html><head><title>404</title></head><body>Not found</body></html>\n"), BadImageKind.NotAnImage, RejectionCode.UnsupportedFormat),
            Rejected("drawing.png", Encoding.UTF8.GetBytes("<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>"), BadImageKind.NotAnImage, RejectionCode.UnsupportedFormat),
            Rejected("archive.jpg", [(byte)'P', (byte)'K', 3, 4, 20, 0, 0, 0, 8, 0, .. new byte[40]], BadImageKind.NotAnImage, RejectionCode.UnsupportedFormat),
            Rejected("document.png", Encoding.ASCII.GetBytes("%PDF-1.7\n%\u00e2\u00e3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"), BadImageKind.NotAnImage, RejectionCode.UnsupportedFormat),
            Rejected("program.gif", [0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, .. new byte[56]], BadImageKind.NotAnImage, RejectionCode.UnsupportedFormat),
            Rejected("scan.jpg", [(byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0, .. new byte[32]], BadImageKind.NotAnImage, RejectionCode.UnsupportedFormat),
            Rejected("sound.webp", [.. "RIFF"u8, 36, 0, 0, 0, .. "WAVEfmt "u8, .. new byte[28]], BadImageKind.NotAnImage, RejectionCode.UnsupportedFormat),
            Rejected("random.jpg", RandomBytes(new Random(99), 4096), BadImageKind.NotAnImage, RejectionCode.UnsupportedFormat),

            Rejected("bomb-20000x20000.png", PngWriter.WithDeclaredSize(20000, 20000), BadImageKind.Bomb, RejectionCode.TooManyPixels),
            Rejected("bomb-4gx4g.png", PngWriter.WithDeclaredSize(0x7FFFFFFF, 0x7FFFFFFF), BadImageKind.Bomb, RejectionCode.TooManyPixels),
            Rejected("beyond-format-4294967295x1.png", PngWriter.WithDeclaredSize(0xFFFFFFFF, 1), BadImageKind.Malformed, RejectionCode.Corrupt),
            Rejected("tiny-data-10000x8000.png", PngWriter.WithDeclaredSize(10000, 8000), BadImageKind.Bomb, RejectionCode.Corrupt),
            Rejected("wide-30000x8.png", PngWriter.WithDeclaredSize(30000, 8), BadImageKind.Bomb, RejectionCode.DimensionsTooLarge),
            Rejected("bomb-65535x65535.jpg", JpegEditor.WithDeclaredSize(jpeg, 65535, 65535), BadImageKind.Bomb, RejectionCode.TooManyPixels),
            Rejected("bomb-10000-frames.gif", ManyFrameGif(10_000), BadImageKind.Bomb, RejectionCode.TooManyFrames),
            Rejected("bomb-huge-frame.gif", HugeFrameGif(), BadImageKind.Bomb, RejectionCode.TooManyPixels),
            Rejected("bomb-5000-frames.png", ApngDeclaring(5000), BadImageKind.Bomb, RejectionCode.TooManyFrames),
            Rejected("bomb-5000-scans.jpg", ProgressiveScanBomb(5000), BadImageKind.Bomb, RejectionCode.TooManyFrames),
            Rejected("bomb-16383x16383.webp", WebPDeclaring(16383, 16383), BadImageKind.Bomb, RejectionCode.TooManyPixels),
            Rejected("bomb-40000x30000.bmp", BmpDeclaring(40000, 30000), BadImageKind.Bomb, RejectionCode.TooManyPixels),

            Rejected("zero-size.gif", GifWriter.Write(0, 0, new byte[768], [new GifFrame(0, 0, 1, 1, [0])]), BadImageKind.Malformed, RejectionCode.TooSmall),
            Rejected("zero-width.png", PngWriter.WithDeclaredSize(0, 10), BadImageKind.Malformed, RejectionCode.TooSmall),
            Rejected("bad-ihdr-crc.png", FlipByte(png, 20), BadImageKind.Malformed, RejectionCode.Corrupt),
            Rejected("no-idat.png", [.. png.AsSpan(0, 33), .. PngWriter.Chunk("IEND", [])], BadImageKind.Malformed, RejectionCode.Corrupt),
            Rejected("scan-before-frame.jpg", [0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 63, 0, 0xFF, 0xD9], BadImageKind.Malformed, RejectionCode.Corrupt),
            Rejected("eoi-only.jpg", [0xFF, 0xD8, 0xFF, 0xD9], BadImageKind.Malformed, RejectionCode.Corrupt),
            Rejected("riff-larger-than-file.webp", WebPDeclaring(64, 64, riffExtra: 100_000), BadImageKind.Truncated, RejectionCode.Truncated),
            Rejected("gif-no-frames.gif", [.. "GIF89a"u8, 1, 0, 1, 0, 0, 0, 0, 0x3B], BadImageKind.Malformed, RejectionCode.Corrupt),

            Decodes("photo.png.jpg", png),
            Decodes("photo.jpg.png", jpeg),
            Decodes("photo.gif.webp", SampleImages.Solid(ImageFormat.Gif, 20, 20, SKColors.Orange)),
            Decodes("photo", SampleImages.Solid(ImageFormat.WebP, 20, 20, SKColors.Orange)),
        ];
    }

    /// <summary>
    /// Small valid images of every format cut at seeded points (plus the first and last few bytes). Every cut
    /// must be refused as truncated: the decoder accepts only files that reach their end marker.
    /// </summary>
    public static IEnumerable<BadImage> Truncated(int seed, int count)
    {
        var random = new Random(seed);
        var samples = SampleImages.SmallPhotos();
        var cuts = new HashSet<(int, int)>();
        for (var i = 0; i < count; i++)
        {
            var s = i % samples.Count;
            var (format, bytes) = samples[s];

            // Cover both ends of every file, where header and end-marker handling live, then random cuts.
            var round = i / samples.Count;
            var cut = round switch
            {
                < 4 => round + 1,
                < 8 => bytes.Length - (round - 3),
                _ => random.Next(1, bytes.Length),
            };
            if (cuts.Add((s, cut)))
            {
                yield return Rejected(
                    $"cut-{format.ToString().ToLowerInvariant()}-{cut}-of-{bytes.Length}.{Extension(format)}",
                    bytes[..cut],
                    BadImageKind.Truncated,
                    RejectionCode.Truncated);
            }
        }
    }

    /// <summary>
    /// Seeded mutants of small valid images: bit flips, runs of 0x00/0xFF/random bytes, most of them in the first
    /// 64 bytes where the header lives. Either outcome is right; crashing, hanging or throwing is not.
    /// </summary>
    public static IEnumerable<BadImage> Mutated(int seed, int count)
    {
        var random = new Random(seed);
        var samples = SampleImages.SmallPhotos();
        for (var i = 0; i < count; i++)
        {
            var (format, original) = samples[i % samples.Count];
            var bytes = (byte[])original.Clone();
            var kind = random.Next(3);
            var edits = 1 + random.Next(4);
            for (var e = 0; e < edits; e++)
            {
                var at = random.Next(2) == 0 ? random.Next(Math.Min(64, bytes.Length)) : random.Next(bytes.Length);
                switch (kind)
                {
                    case 0:
                        bytes[at] ^= (byte)(1 << random.Next(8));
                        break;
                    case 1:
                        var run = Math.Min(1 + random.Next(32), bytes.Length - at);
                        var fill = (byte)(random.Next(3) switch { 0 => 0x00, 1 => 0xFF, _ => random.Next(256) });
                        bytes.AsSpan(at, run).Fill(fill);
                        break;
                    default:
                        random.NextBytes(bytes.AsSpan(at, Math.Min(1 + random.Next(8), bytes.Length - at)));
                        break;
                }
            }

            var what = kind switch { 0 => "flip", 1 => "run", _ => "noise" };
            yield return new BadImage(
                $"mutant-{i}-{what}-{format.ToString().ToLowerInvariant()}.{Extension(format)}",
                bytes,
                BadImageKind.Mutated,
                BadImageOutcome.Either);
        }
    }

    /// <summary>A GIF with <paramref name="frames"/> 1x1 frames: ~17 bytes a frame.</summary>
    public static byte[] ManyFrameGif(int frames) =>
        GifWriter.Write(64, 64, new byte[768], Enumerable.Range(0, frames).Select(i => new GifFrame(i % 64, i / 64 % 64, 1, 1, [1])));

    /// <summary>A 16x16 GIF whose single frame declares 65535x65535 pixels.</summary>
    public static byte[] HugeFrameGif() =>
        GifWriter.Write(16, 16, new byte[768], [new GifFrame(0, 0, 65535, 65535, new byte[16])]);

    /// <summary>A 16x16 PNG whose acTL chunk declares <paramref name="frames"/> animation frames.</summary>
    public static byte[] ApngDeclaring(uint frames) =>
        PngWriter.Write(16, 16, 8, PngWriter.Gray, new byte[16 * 16], extraChunks: [("acTL", PngWriter.AnimationControl(frames))]);

    /// <summary>
    /// A progressive JPEG frame header followed by <paramref name="scans"/> empty scans: tiny on disk, a full
    /// coefficient pass per scan for a decoder.
    /// </summary>
    public static byte[] ProgressiveScanBomb(int scans)
    {
        using var output = new MemoryStream();
        output.Write([0xFF, 0xD8]);
        output.Write([0xFF, 0xC2, 0x00, 0x0B, 8, 0x00, 0x10, 0x00, 0x10, 1, 1, 0x11, 0]);
        for (var i = 0; i < scans; i++)
        {
            output.Write([0xFF, 0xDA, 0x00, 0x08, 1, 1, 0x00, 0, 0, 0]);
        }

        output.Write([0xFF, 0xD9]);
        return output.ToArray();
    }

    /// <summary>A VP8X WebP header declaring the canvas size over no real image data.</summary>
    public static byte[] WebPDeclaring(int width, int height, int riffExtra = 0)
    {
        var file = new byte[30];
        "RIFF"u8.CopyTo(file);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(4), (uint)(file.Length - 8 + riffExtra));
        "WEBPVP8X"u8.CopyTo(file.AsSpan(8));
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(16), 10);
        WriteUInt24(file.AsSpan(24), width - 1);
        WriteUInt24(file.AsSpan(27), height - 1);
        return file;
    }

    /// <summary>A BMP header declaring any size over a few bytes of pixels.</summary>
    public static byte[] BmpDeclaring(int width, int height)
    {
        var file = new byte[54 + 64];
        file[0] = (byte)'B';
        file[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(2), file.Length);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(file.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(file.AsSpan(28), 24);
        return file;
    }

    public static string Extension(ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => "jpg",
        ImageFormat.Png => "png",
        ImageFormat.Gif => "gif",
        ImageFormat.Bmp => "bmp",
        ImageFormat.WebP => "webp",
        _ => "bin",
    };

    private static BadImage Rejected(string name, byte[] bytes, BadImageKind kind, RejectionCode code) =>
        new(name, bytes, kind, BadImageOutcome.Rejected, code);

    private static BadImage Decodes(string name, byte[] bytes) =>
        new(name, bytes, BadImageKind.Mislabelled, BadImageOutcome.Decoded);

    private static byte[] FlipByte(byte[] bytes, int at)
    {
        var copy = (byte[])bytes.Clone();
        copy[at] ^= 0x01;
        return copy;
    }

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);

        // Keep the first byte away from every accepted signature, so the expectation is certain.
        bytes[0] = 0x00;
        bytes[1] = 0x42;
        return bytes;
    }

    private static void WriteUInt24(Span<byte> target, int value)
    {
        target[0] = (byte)value;
        target[1] = (byte)(value >> 8);
        target[2] = (byte)(value >> 16);
    }
}
