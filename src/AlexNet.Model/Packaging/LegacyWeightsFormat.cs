using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace AlexNet.Model.Packaging;

/// <summary>
/// The project's own weights file, written by packages and checkpoints before safetensors (<c>weights.bin</c>): a
/// magic, a count, then per tensor its name, shape and fp32 data (little-endian), in name order. Still read, so those
/// packages load; written only to test that they do.
/// </summary>
public static class LegacyWeightsFormat
{
    internal static readonly byte[] Magic = "ALEXW001"u8.ToArray();

    /// <summary>Whether the bytes start with this format's magic.</summary>
    public static bool Matches(ReadOnlySpan<byte> bytes) => bytes.StartsWith(Magic);
    private const int MaxTensors = 4096;
    private const int MaxDimensions = 8;

    public static byte[] Serialize(IReadOnlyDictionary<string, Tensor> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(weights.Count);
            foreach (var (name, tensor) in weights.OrderBy(pair => pair.Key, StringComparer.Ordinal))
            {
                writer.Write(name);
                writer.Write(tensor.shape.Length);
                foreach (long dimension in tensor.shape)
                    writer.Write(dimension);
                using var scope = torch.NewDisposeScope();
                float[] values = tensor.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
                if (!BitConverter.IsLittleEndian)
                    throw new PlatformNotSupportedException("weights files are little-endian");
                writer.Write(MemoryMarshal.AsBytes(values.AsSpan()));
            }
        }
        return buffer.ToArray();
    }

    /// <summary>Reads tensors onto the CPU; the caller disposes them.</summary>
    public static Dictionary<string, Tensor> Deserialize(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Magic.Length + 4 || !bytes[..Magic.Length].SequenceEqual(Magic))
            throw new InvalidDataException("not an AlexNet weights file (bad magic)");
        int offset = Magic.Length;
        int count = ReadInt32(bytes, ref offset);
        if (count is < 0 or > MaxTensors)
            throw new InvalidDataException($"weights file declares {count} tensors");

        var weights = new Dictionary<string, Tensor>(count);
        try
        {
            for (int i = 0; i < count; i++)
            {
                string name = ReadString(bytes, ref offset);
                int rank = ReadInt32(bytes, ref offset);
                if (rank is < 0 or > MaxDimensions)
                    throw new InvalidDataException($"'{name}' declares {rank} dimensions");
                var shape = new long[rank];
                long elements = 1;
                for (int d = 0; d < rank; d++)
                    shape[d] = BinaryPrimitives.ReadInt64LittleEndian(Slice(bytes, ref offset, 8));
                // Every dimension and the running product are held to the bytes still unread, so a declared shape can
                // neither overflow nor ask for more memory than the file itself holds.
                long available = (bytes.Length - offset) / sizeof(float);
                foreach (long dimension in shape)
                {
                    if (dimension < 0 || dimension > available || (dimension > 0 && elements > available / dimension))
                        throw new InvalidDataException($"'{name}' declares shape [{string.Join(", ", shape)}], more than the {bytes.Length - offset} bytes left: the weights file is truncated or corrupt");
                    elements *= dimension;
                }
                ReadOnlySpan<byte> data = Slice(bytes, ref offset, (int)(elements * sizeof(float)));
                float[] values = MemoryMarshal.Cast<byte, float>(data).ToArray();
                weights.Add(name, torch.tensor(values, shape));
            }
            if (offset != bytes.Length)
                throw new InvalidDataException($"weights file has {bytes.Length - offset} unexpected trailing bytes");
            return weights;
        }
        catch
        {
            foreach (Tensor tensor in weights.Values)
                tensor.Dispose();
            throw;
        }
    }

    private static int ReadInt32(ReadOnlySpan<byte> bytes, ref int offset) =>
        BinaryPrimitives.ReadInt32LittleEndian(Slice(bytes, ref offset, 4));

    private static string ReadString(ReadOnlySpan<byte> bytes, ref int offset)
    {
        // BinaryWriter's 7-bit encoded length prefix.
        int length = 0, shift = 0;
        byte b;
        do
        {
            if (shift > 28)
                throw new InvalidDataException("bad string length in weights file");
            b = Slice(bytes, ref offset, 1)[0];
            length |= (b & 0x7f) << shift;
            shift += 7;
        }
        while ((b & 0x80) != 0);
        return Encoding.UTF8.GetString(Slice(bytes, ref offset, length));
    }

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> bytes, ref int offset, int length)
    {
        if (length < 0 || offset > bytes.Length - length)
            throw new InvalidDataException("weights file is truncated");
        ReadOnlySpan<byte> slice = bytes.Slice(offset, length);
        offset += length;
        return slice;
    }
}
