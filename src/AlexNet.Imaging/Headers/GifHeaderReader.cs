using System.Buffers.Binary;

namespace AlexNet.Imaging.Headers;

/// <summary>
/// Reads the logical screen, then walks the GIF block structure (extensions and image descriptors with their
/// sub-blocks) to the trailer, counting frames without decoding any LZW data. Stops as soon as the count
/// passes the limit, so a 10,000-frame file costs a walk over ~1,000 frames. A GIF without its trailer is
/// refused as truncated even when its first frame is whole: the upload was interrupted.
/// </summary>
internal static class GifHeaderReader
{
    private const int ScreenDescriptorEnd = 13;
    private const byte ExtensionIntroducer = 0x21;
    private const byte ImageSeparator = 0x2C;
    private const byte Trailer = 0x3B;

    public static ImageProbeResult Read(ReadOnlySpan<byte> data, ImageLimits limits)
    {
        if (data.Length < ScreenDescriptorEnd)
        {
            return ImageProbeResult.Rejected(
                RejectionCode.Truncated,
                Reasons.Format($"The GIF ends after {data.Length} bytes, inside its screen descriptor."));
        }

        int width = BinaryPrimitives.ReadUInt16LittleEndian(data[6..]);
        int height = BinaryPrimitives.ReadUInt16LittleEndian(data[8..]);
        var header = new ImageHeader(ImageFormat.Gif, width, height, 1);
        if (Reasons.CheckDimensions("GIF", width, height, limits, header) is { } outOfBounds)
        {
            return outOfBounds;
        }

        var pos = ScreenDescriptorEnd + ColorTableBytes(data[10]);
        var frames = 0;
        while (true)
        {
            if (pos < 0 || pos >= data.Length)
            {
                return ImageProbeResult.Rejected(
                    RejectionCode.Truncated,
                    frames == 0
                        ? Reasons.Format($"The GIF ends after {data.Length} bytes, before its first frame is complete.")
                        : Reasons.Format($"The GIF ends after {data.Length} bytes, after {frames} frames, without its trailer."),
                    header);
            }

            var block = data[pos];
            if (block == Trailer)
            {
                return frames == 0
                    ? ImageProbeResult.Rejected(RejectionCode.Corrupt, "The GIF has no frames.", header)
                    : ImageProbeResult.Accepted(header with { FrameCount = frames });
            }

            if (block == ExtensionIntroducer)
            {
                pos = SkipSubBlocks(data, pos + 2);
            }
            else if (block == ImageSeparator)
            {
                if (pos + 10 > data.Length)
                {
                    pos = -1;
                    continue;
                }

                int frameWidth = BinaryPrimitives.ReadUInt16LittleEndian(data[(pos + 5)..]);
                int frameHeight = BinaryPrimitives.ReadUInt16LittleEndian(data[(pos + 7)..]);
                // The decoder walks every declared pixel of a frame even where it lies off the screen.
                frameWidth = Math.Max(1, frameWidth);
                frameHeight = Math.Max(1, frameHeight);
                if (!Reasons.WithinLimits(frameWidth, frameHeight, limits))
                {
                    var subject = Reasons.Format($"GIF's frame {frames + 1}");
                    return Reasons.CheckDimensions(subject, frameWidth, frameHeight, limits, header)!;
                }

                // Descriptor (10 bytes), local colour table, LZW minimum code size (1 byte), data sub-blocks.
                pos = SkipSubBlocks(data, pos + 10 + ColorTableBytes(data[pos + 9]) + 1);
                if (pos >= 0 && ++frames > limits.MaxFrames)
                {
                    return Reasons.TooManyFrames("GIF", "frames", limits, header);
                }
            }
            else
            {
                return ImageProbeResult.Rejected(
                    RejectionCode.Corrupt,
                    Reasons.Format($"The GIF has an unknown block 0x{block:X2} at byte {pos}, after {frames} frames."),
                    header);
            }
        }
    }

    private static int ColorTableBytes(byte flags) => (flags & 0x80) != 0 ? 3 << ((flags & 0x07) + 1) : 0;

    /// <summary>Skips a chain of size-prefixed sub-blocks; returns the offset after its terminator, or -1.</summary>
    private static int SkipSubBlocks(ReadOnlySpan<byte> data, int pos)
    {
        while (pos < data.Length)
        {
            var size = data[pos];
            pos += 1 + size;
            if (size == 0)
            {
                return pos;
            }
        }

        return -1;
    }
}
