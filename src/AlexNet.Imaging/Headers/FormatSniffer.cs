using System.Buffers.Binary;

namespace AlexNet.Imaging.Headers;

/// <summary>Identifies the format from the first bytes. File names are never consulted.</summary>
internal static class FormatSniffer
{
    private static ReadOnlySpan<byte> JpegMagic => [0xFF, 0xD8, 0xFF];

    private static ReadOnlySpan<byte> PngMagic => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static ReadOnlySpan<byte> Gif87Magic => "GIF87a"u8;

    private static ReadOnlySpan<byte> Gif89Magic => "GIF89a"u8;

    private static ReadOnlySpan<byte> RiffMagic => "RIFF"u8;

    private static ReadOnlySpan<byte> WebPMagic => "WEBP"u8;

    private static ReadOnlySpan<byte> ZipMagic => [(byte)'P', (byte)'K', 0x03, 0x04];

    private static ReadOnlySpan<byte> ElfMagic => [0x7F, (byte)'E', (byte)'L', (byte)'F'];

    private static ReadOnlySpan<byte> GzipMagic => [0x1F, 0x8B];

    private static ReadOnlySpan<byte> IcoMagic => [0x00, 0x00, 0x01, 0x00];

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>
    /// Returns the format, or a rejection: <see cref="RejectionCode.Truncated"/> when the whole input is a proper
    /// prefix of a signature, <see cref="RejectionCode.UnsupportedFormat"/> otherwise.
    /// </summary>
    public static ImageFormat? Identify(ReadOnlySpan<byte> data, out ImageProbeResult? rejection)
    {
        rejection = null;
        if (data.StartsWith(JpegMagic))
        {
            return ImageFormat.Jpeg;
        }

        if (data.StartsWith(PngMagic))
        {
            return ImageFormat.Png;
        }

        if (data.StartsWith(Gif87Magic) || data.StartsWith(Gif89Magic))
        {
            return ImageFormat.Gif;
        }

        if (data.Length >= 12 && data.StartsWith(RiffMagic) && data.Slice(8, 4).SequenceEqual(WebPMagic))
        {
            return ImageFormat.WebP;
        }

        if (IsBmp(data))
        {
            return ImageFormat.Bmp;
        }

        var prefixOf = PrefixOf(data);
        if (prefixOf is { } format)
        {
            rejection = ImageProbeResult.Rejected(
                RejectionCode.Truncated,
                data.Length == 1
                    ? Reasons.Format($"The file has only 1 byte; it begins a {format.Name()} signature but the file ends there.")
                    : Reasons.Format($"The file has only {data.Length} bytes; they begin a {format.Name()} signature but the file ends there."));
            return null;
        }

        rejection = ImageProbeResult.Rejected(RejectionCode.UnsupportedFormat, DescribeUnsupported(data));
        return null;
    }

    // "BM" alone is two printable letters, so a text file could start with it: also require a header size
    // that some BMP version defines (or a file too short to hold one, which then reads as truncated).
    private static bool IsBmp(ReadOnlySpan<byte> data)
    {
        if (data.Length < 2 || data[0] != (byte)'B' || data[1] != (byte)'M')
        {
            return false;
        }

        if (data.Length < 18)
        {
            return true;
        }

        var dibSize = BinaryPrimitives.ReadUInt32LittleEndian(data[14..]);
        return BmpHeaderReader.IsKnownHeaderSize(dibSize);
    }

    private static ImageFormat? PrefixOf(ReadOnlySpan<byte> data)
    {
        if (data.Length >= JpegMagic.Length && data.Length >= PngMagic.Length && data.Length >= 12)
        {
            return null;
        }

        if (JpegMagic.StartsWith(data))
        {
            return ImageFormat.Jpeg;
        }

        if (PngMagic.StartsWith(data))
        {
            return ImageFormat.Png;
        }

        if (Gif89Magic.StartsWith(data) || Gif87Magic.StartsWith(data))
        {
            return ImageFormat.Gif;
        }

        if (data.Length == 1 && data[0] == (byte)'B')
        {
            return ImageFormat.Bmp;
        }

        if (data.Length < 12 && (RiffMagic.StartsWith(data) || data.StartsWith(RiffMagic)))
        {
            var tail = data.Length > 8 ? data[8..] : [];
            if (WebPMagic.StartsWith(tail))
            {
                return ImageFormat.WebP;
            }
        }

        return null;
    }

    private static string DescribeUnsupported(ReadOnlySpan<byte> data)
    {
        var what = Recognise(data);
        return what is not null
            ? Reasons.Format($"The content is {what}, not a JPEG, PNG, GIF, BMP or WebP image.")
            : Reasons.Format($"The content starts with bytes {Convert.ToHexString(data[..Math.Min(8, data.Length)])}, which begin no accepted format (JPEG, PNG, GIF, BMP, WebP).");
    }

    private static string? Recognise(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith(ZipMagic))
        {
            return "a ZIP archive";
        }

        if (data.StartsWith("%PDF"u8))
        {
            return "a PDF document";
        }

        if (data.StartsWith(ElfMagic))
        {
            return "an ELF executable";
        }

        if (data.StartsWith(GzipMagic))
        {
            return "gzip-compressed data";
        }

        if (data.StartsWith("II*\0"u8) || data.StartsWith("MM\0*"u8))
        {
            return "a TIFF image";
        }

        if (data.Length >= 12 && data.Slice(4, 4).SequenceEqual("ftyp"u8))
        {
            return "an ISO media file (HEIC, AVIF or video)";
        }

        if (data.StartsWith(RiffMagic))
        {
            return "a RIFF container that is not WebP (audio or video)";
        }

        if (data.StartsWith(IcoMagic))
        {
            return "an ICO icon";
        }

        var text = TrimTextStart(data);
        if (text.Length > 0 && text[0] == (byte)'<')
        {
            return "markup (HTML, XML or SVG)";
        }

        return LooksLikeText(data) ? "text" : null;
    }

    private static ReadOnlySpan<byte> TrimTextStart(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith(Utf8Bom))
        {
            data = data[3..];
        }

        var i = 0;
        while (i < data.Length && i < 1024 && data[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            i++;
        }

        return data[i..];
    }

    private static bool LooksLikeText(ReadOnlySpan<byte> data)
    {
        var sample = data[..Math.Min(data.Length, 512)];
        foreach (var b in sample)
        {
            // Control characters other than whitespace do not occur in text; bytes >= 0x80 may be UTF-8.
            if (b < 0x20 && b is not ((byte)'\t' or (byte)'\r' or (byte)'\n' or 0x0C))
            {
                return false;
            }
        }

        return sample.Length > 0;
    }
}
