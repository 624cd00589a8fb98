using System.IO.Compression;
using System.Text.Json;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using static TorchSharp.torch;

namespace AlexNet.Model.Training;

/// <summary>
/// A resumable snapshot in one file, <c>checkpoint.zip</c>, replaced atomically (temporary file, then rename):
/// canonical weights (<see cref="WeightsFormat"/>), the optimiser's velocity buffers, <see cref="TrainingState"/>, and
/// the best epoch's weights (<c>best.bin</c>) unless they are the checkpoint's own weights (saved at the end of the best
/// epoch). A reader sees the previous checkpoint or the new one, never a mix.
/// </summary>
public static class TrainingCheckpoint
{
    public const string FileName = "checkpoint.zip";
    private const string StateEntry = "state.json";
    private const string WeightsEntry = "weights.bin";
    private const string VelocityEntry = "velocity.bin";
    private const string BestEntry = "best.bin";

    /// <param name="bestWeights">The best epoch's weights (<see cref="WeightsFormat"/>), needed whenever
    /// <see cref="TrainingState.Best"/> is set and the network's weights are not that epoch's.</param>
    public static void Save(string path, AlexNetNetwork network, PaperSgd optimizer, TrainingState state, byte[]? bestWeights = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(state);
        bool bestIsOwn = BestIsOwnWeights(state);
        if (state.Best is not null && !bestIsOwn && bestWeights is null)
            throw new ArgumentException($"the best epoch ({state.Best.Epoch}) is not the network's current state: its weights must be saved too", nameof(bestWeights));
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            Write(zip, StateEntry, JsonSerializer.SerializeToUtf8Bytes(state, TrainingJsonContext.Default.TrainingState));
            Write(zip, WeightsEntry, Serialize(network.ExportWeights()));
            Write(zip, VelocityEntry, Serialize(optimizer.ExportState()));
            if (state.Best is not null && !bestIsOwn)
                Write(zip, BestEntry, bestWeights!);
        }
        AtomicFile.Write(path, buffer.ToArray());
    }

    /// <summary>Whether the weights of a checkpoint in <paramref name="state"/> are the best epoch's: saved at its end, before any further step.</summary>
    public static bool BestIsOwnWeights(TrainingState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state.Best is { } best && best.Epoch == state.CompletedEpochs && state.StepInEpoch == 0;
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

    /// <summary>
    /// Loads weights and velocity into a network and optimiser built for the checkpoint's state; returns the state and
    /// the best epoch's weights (<see cref="WeightsFormat"/>; null before the first epoch ended).
    /// </summary>
    public static (TrainingState State, byte[]? BestWeights) Restore(string path, AlexNetNetwork network, PaperSgd optimizer)
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
            byte[] weights = Read(zip, WeightsEntry);
            Apply(WeightsFormat.Deserialize(weights), network.ImportWeights);
            Apply(WeightsFormat.Deserialize(Read(zip, VelocityEntry)), optimizer.ImportState);
            if (state.Best is null)
                return (state, null);
            if (BestIsOwnWeights(state))
                return (state, weights);
            if (zip.GetEntry(BestEntry) is null)
                throw new InvalidDataException($"no {BestEntry} for the best epoch ({state.Best.Epoch}) in the checkpoint");
            byte[] best = Read(zip, BestEntry);
            // Checked now, not when the run ends and packages them: the same tensors as the network's, or refused.
            Apply(WeightsFormat.Deserialize(best), tensors => RequireSameShapes(tensors, weights));
            return (state, best);
        }
        catch (InvalidDataException error)
        {
            throw new InvalidDataException($"checkpoint {path}: {error.Message}", error);
        }
    }

    private static void RequireSameShapes(IReadOnlyDictionary<string, Tensor> best, byte[] weights)
    {
        Dictionary<string, Tensor> current = WeightsFormat.Deserialize(weights);
        try
        {
            if (best.Count != current.Count || current.Any(pair => !best.TryGetValue(pair.Key, out Tensor? other) || !other.shape.SequenceEqual(pair.Value.shape)))
                throw new InvalidDataException($"{BestEntry} does not hold the same tensors as {WeightsEntry}");
        }
        finally
        {
            foreach (Tensor tensor in current.Values)
                tensor.Dispose();
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

    private static void Write(ZipArchive zip, string name, ReadOnlySpan<byte> content)
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
