namespace AlexNet.Pipeline.Resilience;

/// <summary>The kinds of call a latency is set for: what a storage account or a queue does for it, as its round trip differs.</summary>
public enum ChaosCallKind
{
    /// <summary>A blob's content: a download or a conditional read (<c>blob.Download</c>).</summary>
    BlobRead,

    /// <summary>A blob's properties without its content (<c>blob.GetEntry</c>).</summary>
    BlobHead,

    /// <summary>A blob written: upload or create-if-absent (<c>blob.Upload</c>, <c>blob.CreateIfAbsent</c>).</summary>
    BlobWrite,

    /// <summary>The first page of a listing (<c>blob.List</c>); later pages are not delayed.</summary>
    BlobList,

    BlobDelete,

    /// <summary>A blob's index tags replaced (<c>blob.SetTags</c>).</summary>
    BlobTags,

    /// <summary>A query of the tag index (<c>blob.FindByTags</c>).</summary>
    BlobTagQuery,

    /// <summary>A blob's metadata read or replaced (<c>blob.GetMetadata</c>, <c>blob.SetMetadata</c>).</summary>
    BlobMetadata,

    /// <summary>One send call, whatever the number of messages in it (<c>queue.Send</c>).</summary>
    QueueSend,

    /// <summary>One receive call (<c>queue.Receive</c>, <c>queue.PeekDeadLetters</c>), on top of any wait for a first message.</summary>
    QueueReceive,

    /// <summary>A message completed, abandoned or dead-lettered.</summary>
    QueueSettle,

    /// <summary>A message's lock extended (<c>queue.RenewLock</c>).</summary>
    QueueRenew,
}

/// <summary>A named set of per-kind latencies and a tail: what <c>Chaos:LatencyProfile</c> selects.</summary>
/// <param name="TailRate">Share of calls delayed by <paramref name="TailLatency"/> instead of their kind's base latency.</param>
public sealed record ChaosLatencyProfile(string Name, string Description, IReadOnlyDictionary<ChaosCallKind, TimeSpan> Latencies, double TailRate, TimeSpan TailLatency);

/// <summary>The latency profiles <c>Chaos:LatencyProfile</c> knows, and which chaos operation is which kind of call.</summary>
public static class ChaosLatencyProfiles
{
    /// <summary>
    /// A client and a standard (HDD-backed, general-purpose v2, LRS) storage account in one Azure region, small blobs
    /// (under 1 MiB) and Storage Queues standing in for Service Bus. Azure publishes no fixed latency figures; the
    /// sources and the assumptions behind each figure are in docs/reliability.md ("Latency profiles").
    /// </summary>
    public static readonly ChaosLatencyProfile AzureStandard = new(
        "azure-standard",
        "one Azure region, standard storage account (GPv2, LRS), small blobs; Storage Queues / Service Bus",
        new Dictionary<ChaosCallKind, TimeSpan>
        {
            [ChaosCallKind.BlobRead] = TimeSpan.FromMilliseconds(50),
            [ChaosCallKind.BlobHead] = TimeSpan.FromMilliseconds(20),
            [ChaosCallKind.BlobWrite] = TimeSpan.FromMilliseconds(50),
            [ChaosCallKind.BlobList] = TimeSpan.FromMilliseconds(50),
            [ChaosCallKind.BlobDelete] = TimeSpan.FromMilliseconds(20),
            [ChaosCallKind.BlobTags] = TimeSpan.FromMilliseconds(30),
            [ChaosCallKind.BlobTagQuery] = TimeSpan.FromMilliseconds(100),
            [ChaosCallKind.BlobMetadata] = TimeSpan.FromMilliseconds(20),
            [ChaosCallKind.QueueSend] = TimeSpan.FromMilliseconds(20),
            [ChaosCallKind.QueueReceive] = TimeSpan.FromMilliseconds(30),
            [ChaosCallKind.QueueSettle] = TimeSpan.FromMilliseconds(20),
            [ChaosCallKind.QueueRenew] = TimeSpan.FromMilliseconds(20),
        },
        TailRate: 0.01,
        TailLatency: TimeSpan.FromMilliseconds(500));

    private static readonly ChaosLatencyProfile[] All = [AzureStandard];

    public static IReadOnlyList<string> Names { get; } = [.. All.Select(p => p.Name)];

    /// <summary>The profile of that name (case-insensitive), or null.</summary>
    public static ChaosLatencyProfile? Find(string? name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>The kind of a chaos operation (<c>blob.Download</c>, <c>queue.Complete</c>, ...), or null for one no latency is set for.</summary>
    public static ChaosCallKind? KindOf(string operation) => operation switch
    {
        "blob.Download" => ChaosCallKind.BlobRead,
        "blob.GetEntry" => ChaosCallKind.BlobHead,
        "blob.Upload" or "blob.CreateIfAbsent" => ChaosCallKind.BlobWrite,
        "blob.List" => ChaosCallKind.BlobList,
        "blob.Delete" => ChaosCallKind.BlobDelete,
        "blob.SetTags" => ChaosCallKind.BlobTags,
        "blob.FindByTags" => ChaosCallKind.BlobTagQuery,
        "blob.GetMetadata" or "blob.SetMetadata" => ChaosCallKind.BlobMetadata,
        "queue.Send" => ChaosCallKind.QueueSend,
        "queue.Receive" or "queue.PeekDeadLetters" => ChaosCallKind.QueueReceive,
        "queue.Complete" or "queue.Abandon" or "queue.DeadLetter" => ChaosCallKind.QueueSettle,
        "queue.RenewLock" => ChaosCallKind.QueueRenew,
        _ => null,
    };
}
