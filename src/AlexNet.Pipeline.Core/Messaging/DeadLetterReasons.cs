namespace AlexNet.Pipeline.Messaging;

/// <summary>Dead-letter reasons that the queues write themselves.</summary>
public static class DeadLetterReasons
{
    /// <summary>The message was delivered as often as the queue allows; Service Bus uses the same text.</summary>
    public const string MaxDeliveryCountExceeded = "MaxDeliveryCountExceeded";
}
