using System.Buffers.Binary;

namespace AlexNet.Imaging.Headers;

/// <summary>
/// Reads a WebP's RIFF size and first chunk (VP8, VP8L or VP8X) for its dimensions; for an animated VP8X file,
/// walks the chunk list counting ANMF frames.
/// </summary>
internal static class WebPHeaderReader
{
    private const int FirstChunk = 12;

    public static ImageProbeResult Read(ReadOnlySpan<byte> data, ImageLimits limits)
    {
        if (data.Length < FirstChunk + 8)
        {
            return ImageProbeResult.Rejected(
                RejectionCode.Truncated,
                Reasons.Format($"The WebP ends after {data.Length} bytes, inside its header."));
        }

        long declared = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]) + 8L;
        if (declared < FirstChunk + 8)
        {
            return ImageProbeResult.Rejected(
                RejectionCode.Corrupt,
                Reasons.Format($"The WebP's RIFF header declares {declared} bytes, too few to hold an image."));
        }

        if (declared > data.Length)
        {
            return ImageProbeResult.Rejected(
                RejectionCode.Truncated,
                Reasons.Format($"The WebP declares {declared} bytes, but the file ends after {data.Length}."));
        }

        var fourCc = data.Slice(FirstChunk, 4);
        var payload = FirstChunk + 8;
        long width;
        long height;
        var animated = false;
        if (fourCc.SequenceEqual("VP8 "u8))
        {
            if (data.Length < payload + 10)
            {
                return TruncatedHeader(data.Length);
            }

            if (data[payload + 3] != 0x9D || data[payload + 4] != 0x01 || data[payload + 5] != 0x2A)
            {
                return ImageProbeResult.Rejected(RejectionCode.Corrupt, "The WebP's VP8 key frame lacks its start code.");
            }

            width = BinaryPrimitives.ReadUInt16LittleEndian(data[(payload + 6)..]) & 0x3FFF;
            height = BinaryPrimitives.ReadUInt16LittleEndian(data[(payload + 8)..]) & 0x3FFF;
        }
        else if (fourCc.SequenceEqual("VP8L"u8))
        {
            if (data.Length < payload + 5)
            {
                return TruncatedHeader(data.Length);
            }

            if (data[payload] != 0x2F)
            {
                return ImageProbeResult.Rejected(RejectionCode.Corrupt, "The WebP's lossless stream lacks its signature byte.");
            }

            var bits = BinaryPrimitives.ReadUInt32LittleEndian(data[(payload + 1)..]);
            width = (bits & 0x3FFF) + 1;
            height = ((bits >> 14) & 0x3FFF) + 1;
        }
        else if (fourCc.SequenceEqual("VP8X"u8))
        {
            if (data.Length < payload + 10)
            {
                return TruncatedHeader(data.Length);
            }

            animated = (data[payload] & 0x02) != 0;
            width = ReadUInt24(data[(payload + 4)..]) + 1;
            height = ReadUInt24(data[(payload + 7)..]) + 1;
        }
        else
        {
            return ImageProbeResult.Rejected(
                RejectionCode.Corrupt,
                Reasons.Format($"The WebP's first chunk '{Printable(fourCc)}' is not VP8, VP8L or VP8X."));
        }

        var header = new ImageHeader(ImageFormat.WebP, (int)width, (int)height, 1);
        if (Reasons.CheckDimensions("WebP", width, height, limits, header) is { } outOfBounds)
        {
            return outOfBounds;
        }

        return animated ? CountFrames(data[..(int)declared], header, limits) : ImageProbeResult.Accepted(header);
    }

    private static ImageProbeResult CountFrames(ReadOnlySpan<byte> riff, ImageHeader header, ImageLimits limits)
    {
        var frames = 0;
        long pos = FirstChunk;
        while (pos + 8 <= riff.Length)
        {
            var size = BinaryPrimitives.ReadUInt32LittleEndian(riff[(int)(pos + 4)..]);
            if (riff.Slice((int)pos, 4).SequenceEqual("ANMF"u8) && ++frames > limits.MaxFrames)
            {
                return Reasons.TooManyFrames("animated WebP", "frames", limits, header);
            }

            // Chunk payloads are padded to an even length.
            pos += 8L + size + (size & 1);
        }

        return frames == 0
            ? ImageProbeResult.Rejected(RejectionCode.Corrupt, "The WebP is marked animated but has no frames.", header)
            : ImageProbeResult.Accepted(header with { FrameCount = frames });
    }

    private static ImageProbeResult TruncatedHeader(int length) =>
        ImageProbeResult.Rejected(
            RejectionCode.Truncated,
            Reasons.Format($"The WebP ends after {length} bytes, inside its image header."));

    private static long ReadUInt24(ReadOnlySpan<byte> data) => data[0] | (data[1] << 8) | (data[2] << 16);

    private static string Printable(ReadOnlySpan<byte> fourCc)
    {
        Span<char> text = stackalloc char[4];
        for (var i = 0; i < 4; i++)
        {
            text[i] = fourCc[i] is >= 0x20 and < 0x7F ? (char)fourCc[i] : '?';
        }

        return new string(text);
    }
}
