using System.Buffers.Binary;

namespace AlexNet.Testing.Encoders;

/// <summary>Edits to encoded JPEGs that Skia's encoder cannot make: EXIF orientation, a lying frame header.</summary>
public static class JpegEditor
{
    /// <summary>Inserts an EXIF APP1 segment carrying only the orientation tag (1..8) after SOI.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, int orientation)
    {
        ArgumentNullException.ThrowIfNull(jpeg);
        ArgumentOutOfRangeException.ThrowIfLessThan(orientation, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(orientation, 8);

        // "Exif\0\0", then a big-endian TIFF header and one IFD with one SHORT entry (0x0112, Orientation).
        byte[] exif =
        [
            (byte)'E', (byte)'x', (byte)'i', (byte)'f', 0, 0,
            (byte)'M', (byte)'M', 0, 0x2A, 0, 0, 0, 8,
            0, 1,
            0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (byte)orientation, 0, 0,
            0, 0, 0, 0,
        ];
        var segment = new byte[4 + exif.Length];
        segment[0] = 0xFF;
        segment[1] = 0xE1;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(2 + exif.Length));
        exif.CopyTo(segment, 4);
        return [.. jpeg.AsSpan(0, 2), .. segment, .. jpeg.AsSpan(2)];
    }

    /// <summary>Rewrites the dimensions in the frame header (SOFn), leaving the scan data as it was.</summary>
    public static byte[] WithDeclaredSize(byte[] jpeg, ushort width, ushort height)
    {
        ArgumentNullException.ThrowIfNull(jpeg);
        var copy = (byte[])jpeg.Clone();
        var sof = FindFrameHeader(copy);
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(sof + 5), height);
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(sof + 7), width);
        return copy;
    }

    /// <summary>The offset of the SOFn marker's 0xFF.</summary>
    public static int FindFrameHeader(byte[] jpeg)
    {
        ArgumentNullException.ThrowIfNull(jpeg);
        var pos = 2;
        while (pos + 4 <= jpeg.Length && jpeg[pos] == 0xFF)
        {
            var marker = jpeg[pos + 1];
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                return pos;
            }

            pos += 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(pos + 2));
        }

        throw new ArgumentException("No frame header found before the scan data.", nameof(jpeg));
    }
}
