using System.Buffers.Binary;

namespace AlexNet.Imaging.Headers;

/// <summary>
/// Walks JPEG marker segments through the frame header (SOFn, for the dimensions) to the first scan, so a file
/// cut inside its tables reads as truncated. For a progressive JPEG it goes on through the file counting scans:
/// each scan is a pass over the whole coefficient buffer, so thousands of tiny scans make a small file that
/// takes minutes to decode.
/// </summary>
internal static class JpegHeaderReader
{
    private const byte Sos = 0xDA;
    private const byte Eoi = 0xD9;

    public static ImageProbeResult Read(ReadOnlySpan<byte> data, ImageLimits limits)
    {
        ImageHeader? header = null;
        var progressive = false;
        var scans = 0;
        var pos = 2;
        while (pos < data.Length)
        {
            if (data[pos] != 0xFF)
            {
                if (header is null)
                {
                    return ImageProbeResult.Rejected(
                        RejectionCode.Corrupt,
                        Reasons.Format($"The JPEG has byte 0x{data[pos]:X2} at offset {pos} where a marker must start."));
                }

                break;
            }

            // Any number of 0xFF fill bytes may precede a marker code.
            while (pos < data.Length && data[pos] == 0xFF)
            {
                pos++;
            }

            if (pos >= data.Length)
            {
                break;
            }

            var marker = data[pos++];
            if (marker is 0xD8 or 0x01 or (>= 0xD0 and <= 0xD7))
            {
                continue;
            }

            if (marker == Eoi)
            {
                if (header is null)
                {
                    return ImageProbeResult.Rejected(
                        RejectionCode.Corrupt,
                        Reasons.Format($"The JPEG ends (EOI marker at offset {pos - 2}) before its frame header."));
                }

                break;
            }

            if (pos + 2 > data.Length)
            {
                break;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(data[pos..]);
            if (length < 2)
            {
                return ImageProbeResult.Rejected(
                    RejectionCode.Corrupt,
                    Reasons.Format($"The JPEG's marker 0x{marker:X2} at offset {pos - 2} declares an impossible length {length}."),
                    header);
            }

            var end = pos + length;
            if (end > data.Length)
            {
                if (header is null)
                {
                    return ImageProbeResult.Rejected(
                        RejectionCode.Truncated,
                        Reasons.Format($"The JPEG ends after {data.Length} bytes, inside its marker segment 0x{marker:X2} (which needs {end} bytes), before its frame header."));
                }

                break;
            }

            if (IsStartOfFrame(marker))
            {
                if (header is not null)
                {
                    return ImageProbeResult.Rejected(
                        RejectionCode.Corrupt,
                        Reasons.Format($"The JPEG has a second frame header (marker 0x{marker:X2} at offset {pos - 2})."),
                        header);
                }

                if (length < 8)
                {
                    return ImageProbeResult.Rejected(
                        RejectionCode.Corrupt,
                        Reasons.Format($"The JPEG's frame header is {length} bytes long, too short to hold its dimensions."));
                }

                int height = BinaryPrimitives.ReadUInt16BigEndian(data[(pos + 3)..]);
                int width = BinaryPrimitives.ReadUInt16BigEndian(data[(pos + 5)..]);
                header = new ImageHeader(ImageFormat.Jpeg, width, height, 1);
                if (Reasons.CheckDimensions("JPEG", width, height, limits, header) is { } tooBig)
                {
                    return tooBig;
                }

                progressive = IsProgressive(marker);
            }
            else if (marker == Sos)
            {
                if (header is null)
                {
                    return ImageProbeResult.Rejected(
                        RejectionCode.Corrupt,
                        Reasons.Format($"The JPEG starts a scan (offset {pos - 2}) before its frame header."));
                }

                if (!progressive)
                {
                    return ImageProbeResult.Accepted(header);
                }

                if (++scans > limits.MaxFrames)
                {
                    return Reasons.TooManyFrames("progressive JPEG", "scans", limits, header);
                }

                pos = SkipEntropyCodedData(data, end);
                continue;
            }

            pos = end;
        }

        if (header is null)
        {
            return ImageProbeResult.Rejected(
                RejectionCode.Truncated,
                Reasons.Format($"The JPEG ends after {data.Length} bytes, before its frame header."));
        }

        // A progressive file's later scans were walked; the decoder judges whether its data is complete.
        return scans > 0
            ? ImageProbeResult.Accepted(header)
            : ImageProbeResult.Rejected(
                RejectionCode.Truncated,
                Reasons.Format($"The JPEG ends after {data.Length} bytes, before its image data (first scan)."),
                header);
    }

    // SOF0..SOF15 less DHT (C4), JPG (C8) and DAC (CC), which share the range.
    private static bool IsStartOfFrame(byte marker) =>
        marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC;

    private static bool IsProgressive(byte marker) => marker is 0xC2 or 0xC6 or 0xCA or 0xCE;

    /// <summary>Returns the offset of the 0xFF that starts the next marker after scan data, or the end.</summary>
    private static int SkipEntropyCodedData(ReadOnlySpan<byte> data, int pos)
    {
        while (pos < data.Length)
        {
            var next = data[pos..].IndexOf((byte)0xFF);
            if (next < 0)
            {
                return data.Length;
            }

            pos += next;
            var code = pos + 1;
            while (code < data.Length && data[code] == 0xFF)
            {
                code++;
            }

            if (code >= data.Length)
            {
                return data.Length;
            }

            // 0xFF00 is a stuffed data byte and RSTn markers sit inside scan data; anything else ends the scan.
            if (data[code] == 0x00 || data[code] is >= 0xD0 and <= 0xD7)
            {
                pos = code + 1;
                continue;
            }

            return code - 1;
        }

        return data.Length;
    }
}
