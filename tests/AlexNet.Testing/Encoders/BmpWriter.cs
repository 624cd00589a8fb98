using System.Buffers.Binary;
using SkiaSharp;

namespace AlexNet.Testing.Encoders;

/// <summary>A small BMP encoder (Skia has none): 24-bit BGR, or 8-bit with a grey palette for Gray8 bitmaps.</summary>
public static class BmpWriter
{
    private const int HeadersBytes = 14 + 40;

    public static byte[] Write(SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        var gray = bitmap.ColorType == SKColorType.Gray8;
        var bytesPerPixel = gray ? 1 : 3;
        var stride = ((bitmap.Width * bytesPerPixel) + 3) & ~3;
        var paletteBytes = gray ? 256 * 4 : 0;
        var pixelOffset = HeadersBytes + paletteBytes;
        var file = new byte[pixelOffset + (stride * bitmap.Height)];

        file[0] = (byte)'B';
        file[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(2), file.Length);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(10), pixelOffset);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(18), bitmap.Width);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(22), bitmap.Height); // positive: bottom-up rows
        BinaryPrimitives.WriteInt16LittleEndian(file.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(file.AsSpan(28), (short)(bytesPerPixel * 8));
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(34), stride * bitmap.Height);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(46), gray ? 256 : 0);

        if (gray)
        {
            for (var i = 0; i < 256; i++)
            {
                file[HeadersBytes + (i * 4)] = (byte)i;
                file[HeadersBytes + (i * 4) + 1] = (byte)i;
                file[HeadersBytes + (i * 4) + 2] = (byte)i;
            }
        }

        for (var y = 0; y < bitmap.Height; y++)
        {
            var row = pixelOffset + ((bitmap.Height - 1 - y) * stride);
            for (var x = 0; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                if (gray)
                {
                    file[row + x] = c.Red;
                }
                else
                {
                    file[row + (x * 3)] = c.Blue;
                    file[row + (x * 3) + 1] = c.Green;
                    file[row + (x * 3) + 2] = c.Red;
                }
            }
        }

        return file;
    }
}
