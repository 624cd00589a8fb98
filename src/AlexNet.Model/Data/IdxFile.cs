using System.Buffers.Binary;
using System.IO.Compression;

namespace AlexNet.Model.Data;

/// <summary>
/// The IDX format of MNIST and Fashion-MNIST: a big-endian magic (0, 0, type 0x08 = unsigned byte, rank), the
/// dimensions as big-endian int32, then the data. Files may be gzip-compressed (detected by content).
/// </summary>
public static class IdxFile
{
    private const int MaxElements = 1 << 30;

    /// <summary>Reads an unsigned-byte IDX file: its dimensions and data.</summary>
    public static (int[] Shape, byte[] Data) Read(string path)
    {
        byte[] raw = File.ReadAllBytes(path);
        byte[] bytes = raw is [0x1f, 0x8b, ..] ? Gunzip(raw) : raw;
        if (bytes.Length < 4 || bytes[0] != 0 || bytes[1] != 0)
            throw new InvalidDataException($"{path} is not an IDX file (bad magic)");
        if (bytes[2] != 0x08)
            throw new InvalidDataException($"{path} holds IDX type 0x{bytes[2]:x2}; only unsigned bytes (0x08) are supported");
        int rank = bytes[3];
        if (rank is < 1 or > 4 || bytes.Length < 4 + 4 * rank)
            throw new InvalidDataException($"{path} declares rank {rank}");
        var shape = new int[rank];
        long elements = 1;
        for (int d = 0; d < rank; d++)
        {
            shape[d] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * d));
            elements *= shape[d];
            if (shape[d] < 0 || elements > MaxElements)
                throw new InvalidDataException($"{path} declares dimensions [{string.Join(", ", shape[..(d + 1)])}]");
        }
        int offset = 4 + 4 * rank;
        if (bytes.Length - offset != elements)
            throw new InvalidDataException($"{path} holds {bytes.Length - offset} data bytes, its header declares {elements}");
        return (shape, bytes[offset..]);
    }

    private static byte[] Gunzip(byte[] compressed)
    {
        using var input = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }
}
