using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace AlexNet.Model.Packaging;

/// <summary>
/// Weights as safetensors, the pickle-free format PyTorch and Hugging Face tools read: an 8-byte little-endian header
/// length, a JSON header naming each tensor's dtype, shape and byte range (<c>data_offsets</c>, relative to the data
/// that follows) plus <c>__metadata__</c>, then the raw little-endian data. Tensors are written in name order, fp32
/// (<c>F32</c>), the header padded with spaces to 8 bytes as the reference writer does, so the same weights always
/// give the same bytes and the same SHA-256.
/// </summary>
public static class SafetensorsFormat
{
    /// <summary>
    /// The largest header read. A package's 16 tensors take about 1.5 KB and a checkpoint's no more; the package loader
    /// holds the whole file to its network's parameters plus 64 KB before this is even looked at.
    /// </summary>
    public const int MaxHeaderBytes = 1024 * 1024;

    private const string MetadataKey = "__metadata__";
    private const int MaxTensors = 4096;
    private const int MaxDimensions = 8;

    /// <summary>What the header's <c>__metadata__</c> says: PyTorch tensors, named as the grouped network names them.</summary>
    public static IReadOnlyDictionary<string, string> Metadata { get; } = new Dictionary<string, string>
    {
        ["format"] = "pt",
        ["network"] = "alexnet-2012, grouped-layout names",
    };

    /// <summary>Writes the tensors with <see cref="Metadata"/>, or with the metadata given (string values, as the format requires).</summary>
    public static byte[] Serialize(IReadOnlyDictionary<string, Tensor> weights, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        metadata ??= Metadata;
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors data is little-endian");
        var ordered = weights.OrderBy(pair => pair.Key, StringComparer.Ordinal).ToList();
        var data = new List<float[]>(ordered.Count);
        foreach (var (name, tensor) in ordered)
        {
            if (name is "" or MetadataKey)
                throw new ArgumentException($"'{name}' cannot name a tensor in a safetensors file", nameof(weights));
            using var scope = torch.NewDisposeScope();
            data.Add(tensor.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray());
        }

        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            json.WriteStartObject(MetadataKey);
            foreach (var (key, value) in metadata)
                json.WriteString(key, value);
            json.WriteEndObject();
            long offset = 0;
            for (int i = 0; i < ordered.Count; i++)
            {
                long end = offset + (long)data[i].Length * sizeof(float);
                json.WriteStartObject(ordered[i].Key);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (long dimension in ordered[i].Value.shape)
                    json.WriteNumberValue(dimension);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(end);
                json.WriteEndArray();
                json.WriteEndObject();
                offset = end;
            }
            json.WriteEndObject();
        }
        while ((header.Length + sizeof(ulong)) % 8 != 0)
            header.WriteByte((byte)' ');

        using var file = new MemoryStream();
        Span<byte> length = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        file.Write(length);
        header.Position = 0;
        header.CopyTo(file);
        foreach (float[] values in data)
            file.Write(MemoryMarshal.AsBytes(values.AsSpan()));
        return file.ToArray();
    }

    /// <summary>
    /// Reads F32 tensors onto the CPU; the caller disposes them. Refuses, naming the fault: a header longer than the
    /// file or than <see cref="MaxHeaderBytes"/>, a header that is not a JSON object of tensors, another dtype, a shape
    /// whose size is not its byte range, and byte ranges that overlap, leave gaps or do not end with the file.
    /// </summary>
    public static Dictionary<string, Tensor> Deserialize(ReadOnlySpan<byte> bytes)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors data is little-endian");
        if (bytes.Length < sizeof(ulong))
            throw new InvalidDataException($"safetensors file is {bytes.Length} bytes, shorter than its 8-byte header length");
        ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (declared > MaxHeaderBytes)
            throw new InvalidDataException($"safetensors header declares {declared} bytes, more than the {MaxHeaderBytes} read");
        int headerLength = (int)declared;
        if (headerLength > bytes.Length - sizeof(ulong))
            throw new InvalidDataException($"safetensors header declares {headerLength} bytes, the file has {bytes.Length - sizeof(ulong)} after the length: truncated or corrupt");
        ReadOnlySpan<byte> data = bytes[(sizeof(ulong) + headerLength)..];
        List<Entry> entries = ReadHeader(bytes.Slice(sizeof(ulong), headerLength), data.Length);
        CheckCoverage(entries, data.Length);

        var weights = new Dictionary<string, Tensor>(entries.Count, StringComparer.Ordinal);
        try
        {
            foreach (Entry entry in entries)
            {
                float[] values = MemoryMarshal.Cast<byte, float>(data[(int)entry.Begin..(int)entry.End]).ToArray();
                weights.Add(entry.Name, torch.tensor(values, entry.Shape));
            }
            return weights;
        }
        catch
        {
            foreach (Tensor tensor in weights.Values)
                tensor.Dispose();
            throw;
        }
    }

    private sealed record Entry(string Name, long[] Shape, long Begin, long End);

    private static List<Entry> ReadHeader(ReadOnlySpan<byte> header, long dataLength)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header.ToArray(), new JsonDocumentOptions { MaxDepth = 4 });
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"safetensors header is not valid JSON: {error.Message}", error);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException("safetensors header is not a JSON object");
            var entries = new List<Entry>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name))
                    throw new InvalidDataException($"safetensors header names '{property.Name}' twice");
                if (property.Name == MetadataKey)
                {
                    if (property.Value.ValueKind != JsonValueKind.Object || property.Value.EnumerateObject().Any(p => p.Value.ValueKind != JsonValueKind.String))
                        throw new InvalidDataException("safetensors __metadata__ must map names to strings");
                    continue;
                }
                if (entries.Count == MaxTensors)
                    throw new InvalidDataException($"safetensors header holds more than {MaxTensors} tensors");
                entries.Add(ReadEntry(property, dataLength));
            }
            return entries;
        }
    }

    private static Entry ReadEntry(JsonProperty property, long dataLength)
    {
        string name = property.Name;
        JsonElement info = property.Value;
        if (name.Length == 0 || info.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"safetensors tensor '{name}' is not an object with dtype, shape and data_offsets");
        if (!info.TryGetProperty("dtype", out JsonElement dtype) || dtype.ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"safetensors tensor '{name}' has no dtype");
        if (dtype.GetString() != "F32")
            throw new InvalidDataException($"safetensors tensor '{name}' is {dtype.GetString()}; only F32 is read");
        long[] shape = Integers(info, "shape", name);
        long[] offsets = Integers(info, "data_offsets", name);
        if (shape.Length > MaxDimensions)
            throw new InvalidDataException($"safetensors tensor '{name}' declares {shape.Length} dimensions");
        if (offsets.Length != 2 || offsets[0] > offsets[1] || offsets[1] > dataLength)
            throw new InvalidDataException($"safetensors tensor '{name}' has data_offsets [{string.Join(", ", offsets)}], not a range within the {dataLength} data bytes: truncated or corrupt");

        // Every dimension and the running product are held to the data the file holds, so a shape can neither
        // overflow nor ask for more memory than the file itself.
        long available = dataLength / sizeof(float), elements = 1;
        foreach (long dimension in shape)
        {
            if (dimension > available || (dimension > 0 && elements > available / dimension))
                throw new InvalidDataException($"safetensors tensor '{name}' declares shape [{string.Join(", ", shape)}], more than the file's {dataLength} data bytes");
            elements *= dimension;
        }
        if (elements * sizeof(float) != offsets[1] - offsets[0])
            throw new InvalidDataException($"safetensors tensor '{name}' has shape [{string.Join(", ", shape)}] ({elements * sizeof(float)} bytes of F32) but data_offsets [{offsets[0]}, {offsets[1]}] ({offsets[1] - offsets[0]} bytes)");
        return new Entry(name, shape, offsets[0], offsets[1]);
    }

    private static long[] Integers(JsonElement info, string field, string name)
    {
        if (!info.TryGetProperty(field, out JsonElement array) || array.ValueKind != JsonValueKind.Array || array.GetArrayLength() > MaxDimensions)
            throw new InvalidDataException($"safetensors tensor '{name}' has no {field} array of at most {MaxDimensions} integers");
        var values = new long[array.GetArrayLength()];
        int i = 0;
        foreach (JsonElement item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long value) || value < 0)
                throw new InvalidDataException($"safetensors tensor '{name}' has {field} holding {item.GetRawText()}, not a non-negative integer");
            values[i++] = value;
        }
        return values;
    }

    /// <summary>The byte ranges, in order, must start at 0, follow each other without gap or overlap, and end with the file.</summary>
    private static void CheckCoverage(List<Entry> entries, long dataLength)
    {
        long next = 0;
        foreach (Entry entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (entry.Begin != next)
            {
                throw new InvalidDataException(entry.Begin < next
                    ? $"safetensors tensor '{entry.Name}' at bytes [{entry.Begin}, {entry.End}] overlaps the tensor before it (which ends at {next})"
                    : $"safetensors data has a gap at bytes [{next}, {entry.Begin}] before tensor '{entry.Name}'");
            }
            next = entry.End;
        }
        if (next != dataLength)
            throw new InvalidDataException($"safetensors data is {dataLength} bytes, its tensors cover {next}: {dataLength - next} unexpected trailing bytes");
    }
}
