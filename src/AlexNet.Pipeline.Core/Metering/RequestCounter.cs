namespace AlexNet.Pipeline.Metering;

/// <summary>
/// Counts requests by kind, safely from any number of threads. One counter is shared by the counting blob store and
/// the counting queues of a host, so that one snapshot holds a run's storage and queue requests together.
/// </summary>
public sealed class RequestCounter
{
    private readonly long[] counts = new long[Enum.GetValues<RequestKind>().Length];

    public void Add(RequestKind kind, long requests = 1) => Interlocked.Add(ref counts[(int)kind], requests);

    public long this[RequestKind kind] => Interlocked.Read(ref counts[(int)kind]);

    /// <summary>The counts so far; kinds are read one by one, so requests made meanwhile may show in some and not others.</summary>
    public RequestCounts Snapshot() => RequestCounts.From(kind => this[kind]);
}
