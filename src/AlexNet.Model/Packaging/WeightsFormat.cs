using static TorchSharp.torch;

namespace AlexNet.Model.Packaging;

/// <summary>
/// The weights of a package or checkpoint, by their canonical names (the grouped layout's <c>conv1.weight</c> ..
/// <c>fc8.bias</c>; the two-tower layout joins and splits its halves). Written as safetensors
/// (<see cref="SafetensorsFormat"/>); read from safetensors or from the project's earlier format
/// (<see cref="LegacyWeightsFormat"/>, told apart by its magic, which no safetensors file starts with: its first 8
/// bytes would declare a header of 3.5 exabytes), so packages and checkpoints written before still load.
/// </summary>
public static class WeightsFormat
{
    public static byte[] Serialize(IReadOnlyDictionary<string, Tensor> weights) => SafetensorsFormat.Serialize(weights);

    /// <summary>Reads tensors onto the CPU; the caller disposes them.</summary>
    public static Dictionary<string, Tensor> Deserialize(ReadOnlySpan<byte> bytes) =>
        LegacyWeightsFormat.Matches(bytes) ? LegacyWeightsFormat.Deserialize(bytes) : SafetensorsFormat.Deserialize(bytes);
}
