using System.Buffers.Binary;

namespace AlexNet.Testing.Encoders;

/// <summary>
/// Writes a flat-colour four-component (CMYK) baseline JPEG with an Adobe APP14 marker, the kind Photoshop and
/// print workflows produce; no encoder on this machine makes one. Every 8x8 block is DC-only, so the encoder is
/// a few Huffman codes. Values are stored inverted (255 = no ink), as Adobe writes them.
/// </summary>
public static class CmykJpegWriter
{
    // The standard DC table of ITU T.81 Annex K (K.3), and a one-symbol AC table holding only end-of-block.
    private static readonly byte[] DcBits = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
    private static readonly byte[] DcValues = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    private static readonly byte[] AcBits = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    private static readonly byte[] AcValues = [0x00];

    /// <summary>A <paramref name="width"/> x <paramref name="height"/> JPEG of one ink mix (0..255 each, 255 = full ink).</summary>
    public static byte[] Solid(int width, int height, byte cyan, byte magenta, byte yellow, byte black)
    {
        using var output = new MemoryStream();
        output.Write([0xFF, 0xD8]);
        WriteSegment(output, 0xEE, [.. "Adobe"u8, 0, 100, 0, 0, 0, 0, 0]); // transform 0: CMYK as is
        WriteSegment(output, 0xDB, [0, .. Enumerable.Repeat((byte)1, 64)]); // quantisation table 0: all ones
        WriteSegment(output, 0xC0,
        [
            8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 4,
            1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0,
        ]);
        WriteSegment(output, 0xC4, [0x00, .. DcBits, .. DcValues]);
        WriteSegment(output, 0xC4, [0x10, .. AcBits, .. AcValues]);
        WriteSegment(output, 0xDA, [4, 1, 0x00, 2, 0x00, 3, 0x00, 4, 0x00, 0, 63, 0]);

        var dcCodes = CanonicalCodes(DcBits, DcValues);
        byte[] stored = [(byte)(255 - cyan), (byte)(255 - magenta), (byte)(255 - yellow), (byte)(255 - black)];
        var bits = new EntropyWriter(output);
        var blocks = ((width + 7) / 8) * ((height + 7) / 8);
        for (var block = 0; block < blocks; block++)
        {
            foreach (var value in stored)
            {
                // A flat block's DC coefficient is 8 * (value - 128); it differs from the previous block's only
                // in the first block, so every later block codes a zero difference.
                var diff = block == 0 ? 8 * (value - 128) : 0;
                var category = diff == 0 ? 0 : 32 - int.LeadingZeroCount(Math.Abs(diff));
                var (code, length) = dcCodes[(byte)category];
                bits.Write(code, length);
                if (category > 0)
                {
                    bits.Write(diff > 0 ? diff : diff + (1 << category) - 1, category);
                }

                bits.Write(0, 1); // end of block: the AC table's only code
            }
        }

        bits.Flush();
        output.Write([0xFF, 0xD9]);
        return output.ToArray();
    }

    private static void WriteSegment(Stream output, byte marker, byte[] payload)
    {
        Span<byte> head = [0xFF, marker, 0, 0];
        BinaryPrimitives.WriteUInt16BigEndian(head[2..], (ushort)(payload.Length + 2));
        output.Write(head);
        output.Write(payload);
    }

    private static Dictionary<byte, (int Code, int Length)> CanonicalCodes(byte[] bits, byte[] values)
    {
        var codes = new Dictionary<byte, (int, int)>();
        var code = 0;
        var k = 0;
        for (var length = 1; length <= 16; length++)
        {
            for (var i = 0; i < bits[length - 1]; i++)
            {
                codes[values[k++]] = (code++, length);
            }

            code <<= 1;
        }

        return codes;
    }

    /// <summary>Writes bits most-significant first, stuffing a zero after every 0xFF byte as JPEG requires.</summary>
    private sealed class EntropyWriter(Stream output)
    {
        private int buffer;
        private int count;

        public void Write(int value, int length)
        {
            for (var i = length - 1; i >= 0; i--)
            {
                buffer = (buffer << 1) | ((value >> i) & 1);
                if (++count == 8)
                {
                    Emit();
                }
            }
        }

        public void Flush()
        {
            // Pad the last byte with one-bits.
            while (count != 0)
            {
                Write(1, 1);
            }
        }

        private void Emit()
        {
            output.WriteByte((byte)buffer);
            if (buffer == 0xFF)
            {
                output.WriteByte(0);
            }

            buffer = 0;
            count = 0;
        }
    }
}
