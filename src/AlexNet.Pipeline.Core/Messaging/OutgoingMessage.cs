namespace AlexNet.Pipeline.Messaging;

/// <summary>A message to send. Keep bodies small (references, not image bytes): Service Bus Standard takes 256 KB, Storage Queues 64 KB.</summary>
/// <param name="MessageId">Identity for duplicate detection on backends that offer it; also what receivers see.</param>
public sealed record OutgoingMessage(string MessageId, BinaryData Body, string? Subject = null, string? CorrelationId = null);
