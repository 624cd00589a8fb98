using System.IO.Compression;
using System.Text.Json;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using static TorchSharp.torch;

namespace AlexNet.Model.Training;

/// <summary>
/// A resumable snapshot in one file, <c>checkpoint.zip</c>, replaced atomically (temporary file, then rename):
/// canonical weights (<see cref="WeightsFormat"/>), the optimiser's velocity buffers and <see cref="TrainingState"/>.
/// A reader sees the previous checkpoint or the new one, never a mix.
/// </summary>
public static class TrainingCheckpoint
{
    public const string FileName = "checkpoint.zip";
    private const string StateEntry = "state.json";
    private const string WeightsEntry = "weights.bin";
    private const string VelocityEntry = "velocity.bin";

    public static void Save(string path, AlexNetNetwork network, PaperSgd optimizer, TrainingState state)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(state);
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            Write(zip, StateEntry, JsonSerializer.SerializeToUtf8Bytes(state, TrainingJsonContext.Default.TrainingState));
            Write(zip, WeightsEntry, Serialize(network.ExportWeights()));
            Write(zip, VelocityEntry, Serialize(optimizer.ExportState()));
        }
        AtomicFile.Write(path, buffer.ToArray());
    }

    /// <summary>The state of a checkpoint; one of an older format is refused with what to do.</summary>
    public static TrainingState ReadState(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        byte[] json = Read(zip, StateEntry);
        int format = 0;
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.TryGetProperty("format", out JsonElement value) && value.TryGetInt32(out int parsed))
                format = parsed;
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"checkpoint {path} has an unreadable state: {error.Message}", error);
        }
        if (format != TrainingState.CurrentFormat)
            throw new InvalidDataException(
                $"checkpoint {path} has format {format}, this version reads {TrainingState.CurrentFormat}: finish it with the version that wrote it, or train into a new folder");
        return JsonSerializer.Deserialize(json, TrainingJsonContext.Default.TrainingState)
            ?? throw new InvalidDataException($"{path} has an empty state");
    }

    /// <summary>Loads weights and velocity into a network and optimiser built for the checkpoint's state.</summary>
    public static TrainingState Restore(string path, AlexNetNetwork network, PaperSgd optimizer)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(optimizer);
        try
        {
            using var zip = ZipFile.OpenRead(path);
            TrainingState state = JsonSerializer.Deserialize(Read(zip, StateEntry), TrainingJsonContext.Default.TrainingState)
                ?? throw new InvalidDataException($"{path} has an empty state");
            if (state.Format != TrainingState.CurrentFormat)
                throw new InvalidDataException($"{path} has checkpoint format {state.Format}, expected {TrainingState.CurrentFormat}");
            Apply(WeightsFormat.Deserialize(Read(zip, WeightsEntry)), network.ImportWeights);
            Apply(WeightsFormat.Deserialize(Read(zip, VelocityEntry)), optimizer.ImportState);
            return state;
        }
        catch (InvalidDataException error)
        {
            throw new InvalidDataException($"checkpoint {path}: {error.Message}", error);
        }
    }

    private static byte[] Serialize(Dictionary<string, Tensor> tensors)
    {
        try
        {
            return WeightsFormat.Serialize(tensors);
        }
        finally
        {
            foreach (Tensor tensor in tensors.Values)
                tensor.Dispose();
        }
    }

    private static void Apply(Dictionary<string, Tensor> tensors, Action<IReadOnlyDictionary<string, Tensor>> apply)
    {
        try
        {
            apply(tensors);
        }
        finally
        {
            foreach (Tensor tensor in tensors.Values)
                tensor.Dispose();
        }
    }

    private static void Write(ZipArchive zip, string name, byte[] content)
    {
        using Stream stream = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
        stream.Write(content);
    }

    private static byte[] Read(ZipArchive zip, string name)
    {
        ZipArchiveEntry entry = zip.GetEntry(name) ?? throw new InvalidDataException($"no {name} in the checkpoint");
        using Stream stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
