using AlexNet.Pipeline.Hosting;
using System.Collections.Concurrent;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Worker;

/// <summary>
/// What the worker's own loops learned about their queues: the last receive on each either worked or failed. The
/// readiness probe reads this instead of calling the queue itself, so it costs nothing and reports what the
/// loops really see.
/// </summary>
public sealed class QueueHealth(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (bool Reachable, DateTimeOffset At, string? Error)> queues = new(StringComparer.Ordinal);

    public void Succeeded(string queue) => queues[queue] = (true, time.GetUtcNow(), null);

    public void Failed(string queue, Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        queues[queue] = (false, time.GetUtcNow(), $"{error.GetType().Name}: {error.Message}");
    }

    /// <summary>Null while no receive on <paramref name="queue"/> has finished yet.</summary>
    public bool? IsReachable(string queue) => queues.TryGetValue(queue, out var state) ? state.Reachable : null;

    public IReadOnlyDictionary<string, (bool Reachable, DateTimeOffset At, string? Error)> Snapshot() =>
        queues.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
}

/// <summary>Ready when a model is loaded: until then the worker takes no messages.</summary>
public sealed class ModelLoadedHealthCheck(ModelHolder models) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(models.Current is { } model
            ? HealthCheckResult.Healthy($"model {model.Version} on {models.Placement}")
            : HealthCheckResult.Unhealthy("no model loaded yet (waiting for models/current.json)"));
}

/// <summary>Ready when the label queue's last receive worked and no other queue's last receive failed.</summary>
public sealed class QueueReachableHealthCheck(QueueHealth queues, IOptions<MessagingOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var snapshot = queues.Snapshot();
        var data = snapshot.ToDictionary(p => p.Key, p => (object)(p.Value.Reachable ? "reachable" : p.Value.Error ?? "failed"), StringComparer.Ordinal);
        string labelQueue = options.Value.LabelQueue;
        if (!snapshot.TryGetValue(labelQueue, out var label))
            return Task.FromResult(HealthCheckResult.Unhealthy($"queue {labelQueue} has not been polled yet (the label loop starts once a model is loaded)", data: data));
        string[] failing = snapshot.Where(p => !p.Value.Reachable).Select(p => $"{p.Key} ({p.Value.Error})").ToArray();
        return Task.FromResult(failing.Length == 0 && label.Reachable
            ? HealthCheckResult.Healthy($"queue {labelQueue} reachable", data)
            : HealthCheckResult.Unhealthy($"unreachable: {string.Join("; ", failing)}", data: data));
    }
}
