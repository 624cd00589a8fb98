using System.Buffers.Binary;

namespace AlexNet.Imaging.Headers;

/// <summary>
/// Reads IHDR (checking its CRC before trusting the dimensions), then walks the chunk list (headers only) to
/// IEND: for an APNG frame count (acTL), image data present, and a file that was cut short. A PNG without its
/// IEND is refused even when every row is present: the upload was interrupted.
/// </summary>
internal static class PngHeaderReader
{
    private const int SignatureLength = 8;
    private const int IhdrEnd = SignatureLength + 8 + 13 + 4;

    // Deflate cannot compress better than about 1032:1; a little slack for the zlib wrapper.
    private const int MaxDeflateRatio = 1100;

    public static ImageProbeResult Read(ReadOnlySpan<byte> data, ImageLimits limits)
    {
        if (data.Length < IhdrEnd)
        {
            return ImageProbeResult.Rejected(
                RejectionCode.Truncated,
                Reasons.Format($"The PNG ends after {data.Length} bytes, inside its header (IHDR ends at byte {IhdrEnd})."));
        }

        var ihdrLength = BinaryPrimitives.ReadUInt32BigEndian(data[SignatureLength..]);
        if (ihdrLength != 13 || !data.Slice(SignatureLength + 4, 4).SequenceEqual("IHDR"u8))
        {
            return ImageProbeResult.Rejected(RejectionCode.Corrupt, "The PNG's first chunk is not a 13-byte IHDR.");
        }

        var storedCrc = BinaryPrimitives.ReadUInt32BigEndian(data[(IhdrEnd - 4)..]);
        if (System.IO.Hashing.Crc32.HashToUInt32(data.Slice(SignatureLength + 4, 4 + 13)) != storedCrc)
        {
            return ImageProbeResult.Rejected(RejectionCode.Corrupt, "The PNG's IHDR chunk fails its CRC check.");
        }

        long width = BinaryPrimitives.ReadUInt32BigEndian(data[16..]);
        long height = BinaryPrimitives.ReadUInt32BigEndian(data[20..]);
        if (width > int.MaxValue || height > int.MaxValue)
        {
            return ImageProbeResult.Rejected(
                RejectionCode.Corrupt,
                Reasons.Format($"The PNG declares {width}x{height}, beyond the format's largest dimension (2^31-1)."));
        }

        var header = new ImageHeader(ImageFormat.Png, (int)width, (int)height, 1);
        if (Reasons.CheckDimensions("PNG", width, height, limits, header) is { } outOfBounds)
        {
            return outOfBounds;
        }

        var pos = IhdrEnd;
        var sawImageData = false;
        long imageDataBytes = 0;
        while (true)
        {
            if (pos + 8 > data.Length)
            {
                return ImageProbeResult.Rejected(
                    RejectionCode.Truncated,
                    sawImageData
                        ? Reasons.Format($"The PNG ends after {data.Length} bytes, without its IEND chunk.")
                        : Reasons.Format($"The PNG ends after {data.Length} bytes, before its image data (IDAT)."),
                    header);
            }

            long length = BinaryPrimitives.ReadUInt32BigEndian(data[pos..]);
            var type = data.Slice(pos + 4, 4);
            if (length > int.MaxValue)
            {
                return ImageProbeResult.Rejected(
                    RejectionCode.Corrupt,
                    Reasons.Format($"The PNG's chunk at byte {pos} declares a length of {length}, over the format's 2^31-1."),
                    header);
            }

            var next = pos + 12 + length;
            if (next > data.Length)
            {
                return ImageProbeResult.Rejected(
                    RejectionCode.Truncated,
                    Reasons.Format($"The PNG ends after {data.Length} bytes, inside its {ChunkName(type)} chunk (which needs {next} bytes)."),
                    header);
            }

            if (type.SequenceEqual("IEND"u8))
            {
                return sawImageData
                    ? CheckImageDataSize(data, header, imageDataBytes)
                    : ImageProbeResult.Rejected(RejectionCode.Corrupt, "The PNG has no image data (IEND comes before any IDAT).", header);
            }

            if (type.SequenceEqual("IDAT"u8))
            {
                sawImageData = true;
                imageDataBytes += length;
            }

            if (!sawImageData && type.SequenceEqual("acTL"u8) && length >= 8)
            {
                var frames = BinaryPrimitives.ReadUInt32BigEndian(data[(pos + 8)..]);
                if (frames > limits.MaxFrames)
                {
                    return ImageProbeResult.Rejected(
                        RejectionCode.TooManyFrames,
                        Reasons.Format($"The PNG (APNG) declares {frames} frames, over the limit of {limits.MaxFrames}."),
                        header);
                }

                header = header with { FrameCount = (int)Math.Max(1u, frames) };
            }

            pos = (int)next;
        }
    }

    /// <summary>
    /// A PNG declaring a size within the limits over a few bytes of data would still cost a full-size pixel
    /// buffer before the decoder found the data missing. Deflate's ratio bound catches that from the header.
    /// </summary>
    private static ImageProbeResult CheckImageDataSize(ReadOnlySpan<byte> data, ImageHeader header, long imageDataBytes)
    {
        int bitDepth = data[24];
        var channels = data[25] switch
        {
            2 => 3,
            4 => 2,
            6 => 4,
            _ => 1,
        };
        var rowBytes = 1 + (((long)header.Width * channels * bitDepth) + 7) / 8;
        var minimum = rowBytes * header.Height / MaxDeflateRatio;
        return imageDataBytes >= minimum
            ? ImageProbeResult.Accepted(header)
            : ImageProbeResult.Rejected(
                RejectionCode.Corrupt,
                Reasons.Format($"The PNG declares {header.Width}x{header.Height} but holds only {imageDataBytes} bytes of image data; deflate cannot expand fewer than {minimum} bytes to that size."),
                header);
    }

    private static string ChunkName(ReadOnlySpan<byte> type)
    {
        Span<char> name = stackalloc char[4];
        for (var i = 0; i < 4; i++)
        {
            name[i] = type[i] is >= 0x20 and < 0x7F ? (char)type[i] : '?';
        }

        return new string(name);
    }
}
