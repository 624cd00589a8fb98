using System.Text.Json.Serialization;

namespace AlexNet.Pipeline.Storage;

[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class LocalBlobStoreJsonContext : JsonSerializerContext;
