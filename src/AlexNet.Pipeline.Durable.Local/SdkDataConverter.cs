using SdkConverter = Microsoft.DurableTask.DataConverter;

namespace AlexNet.Pipeline.Durable;

/// <summary>
/// The Durable Task SDK's converter (System.Text.Json) behind the framework's converter type, so inputs the client
/// writes are read back by the shims exactly as the Functions app's client would write them.
/// </summary>
internal sealed class SdkDataConverter(SdkConverter converter) : DurableTask.Core.Serializing.DataConverter
{
    public override string? Serialize(object? value) => converter.Serialize(value);

    public override string? Serialize(object? value, bool formatted) => converter.Serialize(value);

    public override object? Deserialize(string? data, Type objectType) => converter.Deserialize(data, objectType);
}
