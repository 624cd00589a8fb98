using System.Collections.Concurrent;

namespace AlexNet.Pipeline.Resilience;

/// <summary>What was done to the calls of one operation (e.g. <c>blob.Download</c>, <c>queue.Complete</c>).</summary>
/// <param name="Faults">Calls that threw before reaching the service.</param>
/// <param name="LostResponses">Calls that took effect and then threw.</param>
/// <param name="Delays">Calls slowed down by the configured latency.</param>
/// <param name="DelayTime">The latency injected into those calls, all together.</param>
public sealed record ChaosOperationStatistics(string Operation, long Calls, long Faults, long LostResponses, long Delays, TimeSpan DelayTime = default);

/// <summary>Counts per operation of the calls a <see cref="ChaosInjector"/> saw and what it injected.</summary>
public sealed class ChaosStatistics
{
    private readonly ConcurrentDictionary<string, Counters> operations = new(StringComparer.Ordinal);

    public long Calls => operations.Values.Sum(c => Interlocked.Read(ref c.Calls));

    public long Faults => operations.Values.Sum(c => Interlocked.Read(ref c.Faults));

    public long LostResponses => operations.Values.Sum(c => Interlocked.Read(ref c.LostResponses));

    public long Delays => operations.Values.Sum(c => Interlocked.Read(ref c.Delays));

    /// <summary>The latency injected, all calls together.</summary>
    public TimeSpan DelayTime => TimeSpan.FromTicks(operations.Values.Sum(c => Interlocked.Read(ref c.DelayTicks)));

    /// <summary>Faults of either kind: every call that threw an injected exception.</summary>
    public long Injected => Faults + LostResponses;

    /// <summary>One line per operation, in name order.</summary>
    public IReadOnlyList<ChaosOperationStatistics> Snapshot() =>
        [.. operations.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new ChaosOperationStatistics(
            p.Key, Interlocked.Read(ref p.Value.Calls), Interlocked.Read(ref p.Value.Faults),
            Interlocked.Read(ref p.Value.LostResponses), Interlocked.Read(ref p.Value.Delays), TimeSpan.FromTicks(Interlocked.Read(ref p.Value.DelayTicks))))];

    public override string ToString() => $"{Calls} calls: {Faults} faults, {LostResponses} lost responses, {Delays} delays";

    internal void Called(string operation) => Interlocked.Increment(ref Of(operation).Calls);

    internal void Faulted(string operation) => Interlocked.Increment(ref Of(operation).Faults);

    internal void LostResponse(string operation) => Interlocked.Increment(ref Of(operation).LostResponses);

    internal void Delayed(string operation, TimeSpan latency)
    {
        Counters counters = Of(operation);
        Interlocked.Increment(ref counters.Delays);
        Interlocked.Add(ref counters.DelayTicks, latency.Ticks);
    }

    private Counters Of(string operation) => operations.GetOrAdd(operation, _ => new Counters());

    private sealed class Counters
    {
        public long Calls;
        public long Faults;
        public long LostResponses;
        public long Delays;
        public long DelayTicks;
    }
}
