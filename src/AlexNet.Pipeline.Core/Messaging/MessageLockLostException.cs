namespace AlexNet.Pipeline.Messaging;

/// <summary>
/// The lock on a received message ran out (or the message was settled already) before this settle call:
/// the message may be with another consumer now. The caller's work is not lost, only not acknowledged; it
/// will be delivered again, which idempotent handlers tolerate.
/// </summary>
public sealed class MessageLockLostException : Exception
{
    public MessageLockLostException()
    {
    }

    public MessageLockLostException(string message)
        : base(message)
    {
    }

    public MessageLockLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal static MessageLockLostException For(string queue, ReceivedMessage message, Exception? inner = null)
    {
        var text = $"The lock on message {message.MessageId} from queue '{queue}' has expired or the message was already settled.";
        return inner is null ? new MessageLockLostException(text) : new MessageLockLostException(text, inner);
    }
}
