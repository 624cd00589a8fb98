namespace AlexNet.Pipeline.Metering;

/// <summary>The kinds of storage and queue request the pipeline makes, as a bill would group them.</summary>
public enum RequestKind
{
    /// <summary>A page of a blob listing (Azure returns up to 5,000 names a page).</summary>
    List,

    /// <summary>A blob's properties without its content (a HEAD).</summary>
    Head,

    /// <summary>A blob's content: a whole download or a conditional, ranged read.</summary>
    Read,

    /// <summary>A blob written: create-if-absent or upload, taken effect or not.</summary>
    Write,

    Delete,

    /// <summary>A blob's index tags replaced.</summary>
    Tag,

    /// <summary>A query of the tag index across containers.</summary>
    TagQuery,

    /// <summary>One message sent (Storage Queues take one request per message).</summary>
    Send,

    /// <summary>One receive call on the queue port, whether or not it found messages.</summary>
    Receive,

    /// <summary>A message completed, abandoned or dead-lettered.</summary>
    Settle,

    /// <summary>A message's lock extended.</summary>
    RenewLock,

    /// <summary>A read of the dead letters.</summary>
    PeekDeadLetters,
}
