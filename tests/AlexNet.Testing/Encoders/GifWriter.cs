using System.Buffers.Binary;
using SkiaSharp;

namespace AlexNet.Testing.Encoders;

/// <summary>One GIF frame: its rectangle on the logical screen and one palette index per pixel.</summary>
public sealed record GifFrame(int Left, int Top, int Width, int Height, byte[] Indices);

/// <summary>
/// A small GIF encoder (Skia has none). It writes "uncompressed" LZW: literal codes only, with a clear code
/// often enough that the code width stays at 9 bits. Valid for every decoder, and simple to check.
/// </summary>
public static class GifWriter
{
    private const int MinCodeSize = 8;
    private const int ClearCode = 1 << MinCodeSize;
    private const int EndCode = ClearCode + 1;
    private const int LiteralsPerClear = 250;

    /// <summary>A single-frame GIF of the bitmap, with its colours as the palette (or a 6x7x6 cube if over 256).</summary>
    public static byte[] Write(SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        var colours = new List<SKColor>();
        var lookup = new Dictionary<SKColor, byte>();
        var indices = new byte[bitmap.Width * bitmap.Height];
        var exact = true;
        for (var y = 0; y < bitmap.Height && exact; y++)
        {
            for (var x = 0; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y).WithAlpha(255);
                if (!lookup.TryGetValue(c, out var index))
                {
                    if (colours.Count == 256)
                    {
                        exact = false;
                        break;
                    }

                    index = (byte)colours.Count;
                    lookup[c] = index;
                    colours.Add(c);
                }

                indices[(y * bitmap.Width) + x] = index;
            }
        }

        var palette = new byte[768];
        if (exact)
        {
            for (var i = 0; i < colours.Count; i++)
            {
                palette[i * 3] = colours[i].Red;
                palette[(i * 3) + 1] = colours[i].Green;
                palette[(i * 3) + 2] = colours[i].Blue;
            }
        }
        else
        {
            FillColourCube(palette);
            for (var y = 0; y < bitmap.Height; y++)
            {
                for (var x = 0; x < bitmap.Width; x++)
                {
                    var c = bitmap.GetPixel(x, y);
                    indices[(y * bitmap.Width) + x] = (byte)((c.Red * 6 / 256 * 42) + (c.Green * 7 / 256 * 6) + (c.Blue * 6 / 256));
                }
            }
        }

        return Write(bitmap.Width, bitmap.Height, palette, [new GifFrame(0, 0, bitmap.Width, bitmap.Height, indices)]);
    }

    /// <summary>A GIF of any number of frames over one 256-entry global palette (768 bytes).</summary>
    public static byte[] Write(int width, int height, byte[] palette, IEnumerable<GifFrame> frames)
    {
        ArgumentNullException.ThrowIfNull(palette);
        ArgumentNullException.ThrowIfNull(frames);
        using var output = new MemoryStream();
        output.Write("GIF89a"u8);
        Span<byte> screen = stackalloc byte[7];
        BinaryPrimitives.WriteUInt16LittleEndian(screen, (ushort)width);
        BinaryPrimitives.WriteUInt16LittleEndian(screen[2..], (ushort)height);
        screen[4] = 0x80 | 0x70 | 0x07; // global colour table, 8-bit colour resolution, 256 entries
        output.Write(screen);
        output.Write(palette.AsSpan(0, 768));
        Span<byte> descriptor = stackalloc byte[10];
        foreach (var frame in frames)
        {
            descriptor[0] = 0x2C;
            BinaryPrimitives.WriteUInt16LittleEndian(descriptor[1..], (ushort)frame.Left);
            BinaryPrimitives.WriteUInt16LittleEndian(descriptor[3..], (ushort)frame.Top);
            BinaryPrimitives.WriteUInt16LittleEndian(descriptor[5..], (ushort)frame.Width);
            BinaryPrimitives.WriteUInt16LittleEndian(descriptor[7..], (ushort)frame.Height);
            output.Write(descriptor);
            output.WriteByte(MinCodeSize);
            WriteSubBlocks(output, EncodeLiterals(frame.Indices));
        }

        output.WriteByte(0x3B);
        return output.ToArray();
    }

    private static byte[] EncodeLiterals(byte[] indices)
    {
        var bits = new BitWriter();
        bits.Write(ClearCode);
        var sinceClear = 0;
        foreach (var index in indices)
        {
            bits.Write(index);
            if (++sinceClear == LiteralsPerClear)
            {
                bits.Write(ClearCode);
                sinceClear = 0;
            }
        }

        bits.Write(EndCode);
        return bits.ToArray();
    }

    private static void WriteSubBlocks(Stream output, byte[] data)
    {
        for (var offset = 0; offset < data.Length; offset += 255)
        {
            var length = Math.Min(255, data.Length - offset);
            output.WriteByte((byte)length);
            output.Write(data, offset, length);
        }

        output.WriteByte(0);
    }

    private static void FillColourCube(byte[] palette)
    {
        var i = 0;
        for (var r = 0; r < 6; r++)
        {
            for (var g = 0; g < 7; g++)
            {
                for (var b = 0; b < 6; b++, i += 3)
                {
                    palette[i] = (byte)(r * 51);
                    palette[i + 1] = (byte)(g * 42);
                    palette[i + 2] = (byte)(b * 51);
                }
            }
        }
    }

    /// <summary>Packs 9-bit codes least-significant bit first, as GIF's LZW stream requires.</summary>
    private sealed class BitWriter
    {
        private readonly List<byte> bytes = [];
        private int buffer;
        private int count;

        public void Write(int code)
        {
            buffer |= code << count;
            count += MinCodeSize + 1;
            while (count >= 8)
            {
                bytes.Add((byte)buffer);
                buffer >>= 8;
                count -= 8;
            }
        }

        public byte[] ToArray()
        {
            if (count > 0)
            {
                bytes.Add((byte)buffer);
                buffer = 0;
                count = 0;
            }

            return [.. bytes];
        }
    }
}
