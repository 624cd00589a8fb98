using System.Text.Json;
using System.Text.Json.Serialization;

namespace AlexNet.Pipeline.Messaging;

/// <summary>
/// What <see cref="StorageWorkQueue"/> puts in a Storage Queue message. A Storage Queue message is only
/// text, so MessageId, subject and correlation id travel inside it; a poison copy adds why and how often the
/// message was delivered. Messages in any other form (written by other tools) are read as a bare body.
/// </summary>
internal sealed record StorageQueueEnvelope(
    int Version,
    string Id,
    byte[] Body,
    string? Subject = null,
    string? CorrelationId = null,
    string? DeadLetterReason = null,
    int? DeliveryCount = null,
    DateTimeOffset? EnqueuedAt = null)
{
    public const int CurrentVersion = 1;

    public static StorageQueueEnvelope From(OutgoingMessage message) =>
        new(CurrentVersion, message.MessageId, message.Body.ToArray(), message.Subject, message.CorrelationId);

    public static StorageQueueEnvelope? TryRead(BinaryData data)
    {
        try
        {
            var envelope = JsonSerializer.Deserialize(data.ToMemory().Span, StorageQueueJsonContext.Default.StorageQueueEnvelope);
            return envelope is { Version: CurrentVersion, Id: not null, Body: not null } ? envelope : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public BinaryData Serialize() => BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(this, StorageQueueJsonContext.Default.StorageQueueEnvelope));
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StorageQueueEnvelope))]
internal sealed partial class StorageQueueJsonContext : JsonSerializerContext;
