using System.Collections.Concurrent;
using Azure;
using Azure.Messaging.ServiceBus;
using Polly;
using Polly.Simmy;
using Polly.Simmy.Fault;
using Polly.Simmy.Latency;

namespace AlexNet.Pipeline.Resilience;

/// <summary>Which SDK's exceptions an injected fault imitates.</summary>
public enum ChaosFaultFamily
{
    /// <summary>Azure Storage (blobs, queues): <see cref="RequestFailedException"/> 500/503, connection resets.</summary>
    Storage,

    /// <summary>Service Bus: transient <see cref="ServiceBusException"/>s (busy, timeout, communication problem).</summary>
    ServiceBus,
}

/// <summary>
/// Runs calls through Polly's chaos strategies: a latency strategy and a fault strategy before the call, and a second
/// fault strategy after it (the response lost on the way back). Each decision is a draw from a <see cref="Random"/>
/// seeded with <see cref="ChaosOptions.Seed"/> and the call's identity, so which calls fail does not depend on thread
/// timing: the same seed and the same work fault the same calls. Latency is either a flat <see cref="ChaosOptions.Latency"/>
/// for <see cref="ChaosOptions.LatencyRate"/> of the calls, or per kind of call (<see cref="ChaosOptions.Latencies"/>, a
/// <see cref="ChaosOptions.LatencyProfile"/>) with a tail; <see cref="Active"/> switches all of it on and off at run time.
/// </summary>
public sealed class ChaosInjector
{
    private static readonly ResiliencePropertyKey<ChaosCall> CallKey = new("alexnet.chaos.call");

    private readonly ChaosOptions options;
    private readonly ResiliencePipeline before;
    private readonly ResiliencePipeline after;
    private readonly ConcurrentDictionary<string, int> occurrences = new(StringComparer.Ordinal);
    private volatile bool active;

    /// <exception cref="ArgumentException">The options are not valid; the message names the setting.</exception>
    public ChaosInjector(ChaosOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        options = options.Resolve();
        this.options = options;
        active = options.Enabled;
        ValueTask<bool> IsActive() => ValueTask.FromResult(active);

        // Split the fault rate so that before and after together fault FaultRate of the calls.
        double beforeRate = options.FaultRate * (1 - options.LostResponseShare);
        double afterRate = beforeRate >= 1 ? 0 : options.FaultRate * options.LostResponseShare / (1 - beforeRate);

        before = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddChaosLatency(new ChaosLatencyStrategyOptions
            {
                EnabledGenerator = _ => IsActive(),
                InjectionRateGenerator = args => ValueTask.FromResult(LatencyOf(Call(args.Context)) > TimeSpan.Zero ? 1.0 : 0.0),
                LatencyGenerator = args => ValueTask.FromResult(LatencyOf(Call(args.Context))),
                OnLatencyInjected = args =>
                {
                    Statistics.Delayed(Call(args.Context).Operation, args.Latency);
                    return ValueTask.CompletedTask;
                },
            })
            .AddChaosFault(new ChaosFaultStrategyOptions
            {
                EnabledGenerator = _ => IsActive(),
                InjectionRateGenerator = args => Decide(args.Context, "fault", beforeRate),
                FaultGenerator = args => ValueTask.FromResult<Exception?>(Fault(args.Context, lostResponse: false)),
                OnFaultInjected = args => Count(args.Context, Statistics.Faulted),
            })
            .Build();
        after = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddChaosFault(new ChaosFaultStrategyOptions
            {
                EnabledGenerator = _ => IsActive(),
                InjectionRateGenerator = args => Decide(args.Context, "lost", afterRate),
                FaultGenerator = args => ValueTask.FromResult<Exception?>(Fault(args.Context, lostResponse: true)),
                OnFaultInjected = args => Count(args.Context, Statistics.LostResponse),
            })
            .Build();
    }

    /// <summary>The options in force: those given, with their <see cref="ChaosOptions.LatencyProfile"/> applied.</summary>
    public ChaosOptions Options => options;

    /// <summary>
    /// Whether calls are delayed and faulted now; starts as <see cref="ChaosOptions.Enabled"/>. Off, the decorators pass
    /// calls straight through (and still count them), so one host can measure the same work with and without.
    /// </summary>
    public bool Active
    {
        get => active;
        set => active = value;
    }

    /// <summary>
    /// How long a call would be delayed while <see cref="Active"/>: for a kind of call with a latency in
    /// <see cref="ChaosOptions.Latencies"/>, its base or (for <see cref="ChaosOptions.TailRate"/> of the calls, drawn
    /// from the call's identity) <see cref="ChaosOptions.TailLatency"/>; otherwise <see cref="ChaosOptions.Latency"/> for
    /// <see cref="ChaosOptions.LatencyRate"/> of the calls, and zero for the rest.
    /// </summary>
    /// <param name="occurrence">Which time this operation on this target is made (1 for the first).</param>
    public TimeSpan LatencyOf(string operation, string target, int occurrence = 1)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(target);
        string key = $"{operation}\n{target}";
        return LatencyOf(new ChaosCall(ChaosFaultFamily.Storage, operation, key, occurrence));
    }

    public ChaosStatistics Statistics { get; } = new();

    /// <summary>Makes <paramref name="call"/> under chaos: maybe delayed, maybe failed before it is made, maybe failed after it took effect.</summary>
    /// <param name="operation">What kind of call, e.g. <c>blob.Download</c>; statistics are kept per operation.</param>
    /// <param name="target">What it acts on (a blob name, a message id); with the operation, the call's identity.</param>
    public async Task<T> RunAsync<T>(
        ChaosFaultFamily family, string operation, string target, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        string key = $"{operation}\n{target}";
        var identity = new ChaosCall(family, operation, key, occurrences.AddOrUpdate(key, 1, (_, n) => n + 1));
        Statistics.Called(operation);

        ResilienceContext context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(CallKey, identity);
        try
        {
            T result = await before.ExecuteAsync(static async (ctx, call) => await call(ctx.CancellationToken).ConfigureAwait(false), context, call)
                .ConfigureAwait(false);
            await after.ExecuteAsync(static _ => ValueTask.CompletedTask, context).ConfigureAwait(false);
            return result;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    public Task RunAsync(ChaosFaultFamily family, string operation, string target, Func<CancellationToken, Task> call, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        return RunAsync(family, operation, target, async token =>
        {
            await call(token).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    private static ChaosCall Call(ResilienceContext context) => context.Properties.GetValue(CallKey, default!);

    private TimeSpan LatencyOf(ChaosCall call)
    {
        if (ChaosLatencyProfiles.KindOf(call.Operation) is { } kind && options.Latencies.TryGetValue(kind, out TimeSpan latency))
            return options.TailRate > 0 && Draw(call, "tail") < options.TailRate ? options.TailLatency : latency;
        return Draw(call, "latency") < options.LatencyRate ? options.Latency : TimeSpan.Zero;
    }

    /// <summary>A rate of 1 or 0 for this call: the strategies' own randomizer then only carries out the seeded decision.</summary>
    private ValueTask<double> Decide(ResilienceContext context, string decision, double rate) =>
        ValueTask.FromResult(Draw(context.Properties.GetValue(CallKey, default!), decision) < rate ? 1.0 : 0.0);

    private double Draw(ChaosCall call, string decision)
    {
        // FNV-1a over the call's identity: string.GetHashCode is randomized per process, this is not.
        ulong hash = 14695981039346656037UL ^ (uint)options.Seed;
        foreach (char c in $"{call.Key}\n{call.Occurrence}\n{decision}")
            hash = (hash ^ c) * 1099511628211UL;
#pragma warning disable CA5394 // Reproducible test faults, not security.
        return new Random(unchecked((int)(hash ^ (hash >> 32)))).NextDouble();
#pragma warning restore CA5394
    }

    private Exception Fault(ResilienceContext context, bool lostResponse)
    {
        ChaosCall call = context.Properties.GetValue(CallKey, default!);
        string what = $"chaos: {call.Operation} {(lostResponse ? "took effect but its response was lost" : "failed")}";
        int kind = (int)(Draw(call, lostResponse ? "lost-kind" : "fault-kind") * 4);
        return call.Family switch
        {
            ChaosFaultFamily.ServiceBus => kind switch
            {
                0 or 1 => new ServiceBusException($"{what}: the service was busy", ServiceBusFailureReason.ServiceBusy),
                2 => new ServiceBusException($"{what}: the operation timed out", ServiceBusFailureReason.ServiceTimeout),
                _ => new ServiceBusException($"{what}: communication problem", ServiceBusFailureReason.ServiceCommunicationProblem),
            },
            _ => kind switch
            {
                0 => new RequestFailedException(503, $"{what}: the server is busy", "ServerBusy", null),
                1 => new RequestFailedException(500, $"{what}: the operation could not be completed within the permitted time", "OperationTimedOut", null),
                2 => new IOException($"{what}: unable to read data from the transport connection: connection reset by peer"),

                // What Azure.Core throws once its retries are spent on network errors.
                _ => new AggregateException(
                    $"{what}: retry failed after 6 tries",
                    new RequestFailedException($"{what}: connection reset by peer", new IOException("connection reset by peer"))),
            },
        };
    }

    private static ValueTask Count(ResilienceContext context, Action<string> count)
    {
        count(context.Properties.GetValue(CallKey, default!).Operation);
        return ValueTask.CompletedTask;
    }

    private sealed record ChaosCall(ChaosFaultFamily Family, string Operation, string Key, int Occurrence);
}
