using System.Buffers.Binary;

namespace AlexNet.Imaging.Headers;

/// <summary>Reads a BMP's file header and DIB header (OS/2 and Windows versions) for its dimensions.</summary>
internal static class BmpHeaderReader
{
    private const int FileHeaderBytes = 14;

    public static bool IsKnownHeaderSize(uint dibSize) => dibSize is 12 or 16 or 40 or 52 or 56 or 64 or 108 or 124;

    public static ImageProbeResult Read(ReadOnlySpan<byte> data, ImageLimits limits)
    {
        if (data.Length < FileHeaderBytes + 12)
        {
            return ImageProbeResult.Rejected(
                RejectionCode.Truncated,
                Reasons.Format($"The BMP ends after {data.Length} bytes, inside its header."));
        }

        var dibSize = BinaryPrimitives.ReadUInt32LittleEndian(data[FileHeaderBytes..]);
        long width;
        long height;
        if (dibSize == 12)
        {
            // OS/2 1.x: 16-bit unsigned dimensions.
            width = BinaryPrimitives.ReadUInt16LittleEndian(data[18..]);
            height = BinaryPrimitives.ReadUInt16LittleEndian(data[20..]);
        }
        else
        {
            width = BinaryPrimitives.ReadInt32LittleEndian(data[18..]);
            height = BinaryPrimitives.ReadInt32LittleEndian(data[22..]);

            // A negative height marks a top-down bitmap; a negative width means nothing.
            if (width < 0)
            {
                return ImageProbeResult.Rejected(
                    RejectionCode.Corrupt,
                    Reasons.Format($"The BMP declares a negative width ({width})."));
            }

            height = Math.Abs(height);
        }

        if (height > int.MaxValue)
        {
            return ImageProbeResult.Rejected(RejectionCode.Corrupt, "The BMP declares a height of 2^31, which no BMP can hold.");
        }

        var header = new ImageHeader(ImageFormat.Bmp, (int)width, (int)height, 1);
        if (Reasons.CheckDimensions("BMP", width, height, limits, header) is { } outOfBounds)
        {
            return outOfBounds;
        }

        var pixelOffset = BinaryPrimitives.ReadUInt32LittleEndian(data[10..]);
        if (pixelOffset >= data.Length)
        {
            return ImageProbeResult.Rejected(
                RejectionCode.Truncated,
                Reasons.Format($"The BMP's pixel data should start at byte {pixelOffset}, but the file ends after {data.Length} bytes."),
                header);
        }

        return ImageProbeResult.Accepted(header);
    }
}
