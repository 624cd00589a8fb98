using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AlexNet.Model.Packaging;

namespace AlexNet.Model.Interchange;

/// <summary>
/// What a model needs besides its weights when it leaves the project (ONNX <c>metadata_props</c>, safetensors
/// <c>__metadata__</c>): the classes in output order, where it came from, and how to make its input from an image.
/// String values only, as both formats require.
/// </summary>
public static class ExportMetadata
{
    public static IReadOnlyList<(string Key, string Value)> For(ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        string Floats(IReadOnlyList<float> values) => JsonSerializer.Serialize(values.ToArray(), ExportJsonContext.Default.SingleArray);
        string Int(int value) => value.ToString(CultureInfo.InvariantCulture);
        return
        [
            ("classes", JsonSerializer.Serialize(manifest.Classes.ToArray(), ExportJsonContext.Default.StringArray)),
            ("model_version", manifest.Version),
            ("weights_sha256", manifest.WeightsSha256),
            ("manifest_sha256", manifest.ManifestSha256 ?? "none"),
            ("package_layout", manifest.Layout.ToString()),
            ("input_size", Int(manifest.InputSize)),
            ("base_size", Int(manifest.BaseSize)),
            ("channel_order", "RGB"),
            ("crop", $"rescale the shorter side to base_size ({manifest.BaseSize}), centre-crop a base_size square, then its centre input_size ({manifest.InputSize}) square"),
            ("mean", Floats(manifest.Mean)),
            ("std", manifest.Std is null ? "none" : Floats(manifest.Std)),
            ("normalisation", "pixels on the 0-255 scale, minus mean, divided by std (when std is not none), per channel"),
        ];
    }
}

[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(float[]))]
internal sealed partial class ExportJsonContext : JsonSerializerContext;
