using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace AlexNet.Testing.Encoders;

/// <summary>
/// Writes PNGs chunk by chunk, for the variants Skia's encoder never produces (palette, 16-bit, APNG headers)
/// and for headers that lie about the data (bombs).
/// </summary>
public static class PngWriter
{
    public const byte Gray = 0;
    public const byte Rgb = 2;
    public const byte Palette = 3;
    public const byte GrayAlpha = 4;
    public const byte Rgba = 6;

    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>
    /// A complete PNG from unfiltered rows (<paramref name="rows"/> holds height rows of packed samples, no
    /// filter bytes). Extra chunks are written between IHDR (and PLTE/tRNS) and IDAT.
    /// </summary>
    public static byte[] Write(
        int width,
        int height,
        byte bitDepth,
        byte colorType,
        ReadOnlySpan<byte> rows,
        byte[]? palette = null,
        byte[]? transparency = null,
        IEnumerable<(string Type, byte[] Data)>? extraChunks = null)
    {
        var rowBytes = rows.Length / height;
        using var raw = new MemoryStream();
        for (var y = 0; y < height; y++)
        {
            raw.WriteByte(0);
            raw.Write(rows.Slice(y * rowBytes, rowBytes));
        }

        using var output = new MemoryStream();
        output.Write(Signature);
        output.Write(Chunk("IHDR", Ihdr(width, height, bitDepth, colorType)));
        if (palette is not null)
        {
            output.Write(Chunk("PLTE", palette));
        }

        if (transparency is not null)
        {
            output.Write(Chunk("tRNS", transparency));
        }

        foreach (var (type, data) in extraChunks ?? [])
        {
            output.Write(Chunk(type, data));
        }

        output.Write(Chunk("IDAT", Deflate(raw.ToArray())));
        output.Write(Chunk("IEND", []));
        return output.ToArray();
    }

    /// <summary>A PNG whose IHDR (with a valid CRC) declares any size over a tiny amount of image data.</summary>
    public static byte[] WithDeclaredSize(uint width, uint height, byte bitDepth = 8, byte colorType = Rgb)
    {
        using var output = new MemoryStream();
        output.Write(Signature);
        output.Write(Chunk("IHDR", Ihdr(width, height, bitDepth, colorType)));
        output.Write(Chunk("IDAT", Deflate(new byte[1024])));
        output.Write(Chunk("IEND", []));
        return output.ToArray();
    }

    public static byte[] Ihdr(uint width, uint height, byte bitDepth, byte colorType)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth;
        ihdr[9] = colorType;
        return ihdr;
    }

    public static byte[] Ihdr(int width, int height, byte bitDepth, byte colorType) =>
        Ihdr((uint)width, (uint)height, bitDepth, colorType);

    /// <summary>An APNG animation-control chunk payload: frame count and play count.</summary>
    public static byte[] AnimationControl(uint frames)
    {
        var data = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(data, frames);
        return data;
    }

    public static byte[] Chunk(string type, ReadOnlySpan<byte> data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(chunk, (uint)data.Length);
        Encoding.ASCII.GetBytes(type, chunk.AsSpan(4, 4));
        data.CopyTo(chunk.AsSpan(8));
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), System.IO.Hashing.Crc32.HashToUInt32(chunk.AsSpan(4, 4 + data.Length)));
        return chunk;
    }

    private static byte[] Deflate(byte[] data)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(data);
        }

        return output.ToArray();
    }
}
