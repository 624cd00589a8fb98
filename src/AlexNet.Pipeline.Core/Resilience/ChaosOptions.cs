using System.ComponentModel.DataAnnotations;

namespace AlexNet.Pipeline.Resilience;

/// <summary>
/// Configuration section <c>Chaos</c>: how often <see cref="ChaosBlobStore"/> and <see cref="ChaosWorkQueue"/> make a
/// call fail or slow it down. Test tooling: the faults stand for what is left after the Azure SDK's own retries have
/// given up, so a rate of a few percent is already a very bad day.
/// </summary>
public sealed class ChaosOptions
{
    public const string SectionName = "Chaos";

    /// <summary>Off turns the decorators into plain pass-throughs (they still count calls).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Share of calls that throw a transient fault of the kind the SDK in question throws.</summary>
    [Range(0.0, 1.0, ErrorMessage = "Chaos:FaultRate must be between 0 and 1.")]
    public double FaultRate { get; set; } = 0.1;

    /// <summary>
    /// Share of the faults raised after the call took effect (the request reached the service, the response was lost):
    /// a write that happened, a message that was dequeued or completed, yet the caller sees an exception.
    /// </summary>
    [Range(0.0, 1.0, ErrorMessage = "Chaos:LostResponseShare must be between 0 and 1.")]
    public double LostResponseShare { get; set; } = 0.5;

    /// <summary>Share of calls delayed by <see cref="Latency"/> before they are made.</summary>
    [Range(0.0, 1.0, ErrorMessage = "Chaos:LatencyRate must be between 0 and 1.")]
    public double LatencyRate { get; set; } = 0.1;

    [Range(typeof(TimeSpan), "00:00:00", "00:05:00", ErrorMessage = "Chaos:Latency must be between 0 and 5 minutes.")]
    public TimeSpan Latency { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Seeds every decision. A decision depends on the seed and the call's identity (operation, target, and how many
    /// times that call was made before), not on thread timing, so a run with the same seed faults the same calls.
    /// </summary>
    public int Seed { get; set; } = 1;
}
