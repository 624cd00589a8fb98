using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace AlexNet.Pipeline.Resilience;

/// <summary>
/// Configuration section <c>Chaos</c>: how often <see cref="ChaosBlobStore"/> and <see cref="ChaosWorkQueue"/> make a
/// call fail or slow it down. Test tooling: the faults stand for what is left after the Azure SDK's own retries have
/// given up, so a rate of a few percent is already a very bad day.
/// </summary>
public sealed class ChaosOptions : IValidatableObject
{
    public const string SectionName = "Chaos";

    /// <summary>The longest latency any setting may ask for.</summary>
    public static readonly TimeSpan MaxLatency = TimeSpan.FromMinutes(5);

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

    /// <summary>Share of calls delayed by <see cref="Latency"/> before they are made (calls of a kind with a latency in <see cref="Latencies"/> excepted).</summary>
    [Range(0.0, 1.0, ErrorMessage = "Chaos:LatencyRate must be between 0 and 1.")]
    public double LatencyRate { get; set; } = 0.1;

    [Range(typeof(TimeSpan), "00:00:00", "00:05:00", ErrorMessage = "Chaos:Latency must be between 0 and 5 minutes.")]
    public TimeSpan Latency { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// A named set of per-kind latencies (<see cref="ChaosLatencyProfiles"/>, e.g. <c>azure-standard</c>): a healthy
    /// region's round trips. A profile fills the kinds <see cref="Latencies"/> leaves unset and the tail, and turns
    /// faults and the flat <see cref="LatencyRate"/> off: it simulates distance, not failure.
    /// </summary>
    public string? LatencyProfile { get; set; }

    /// <summary>
    /// A base latency per kind of call (<see cref="ChaosCallKind"/>), e.g. <c>Chaos:Latencies:BlobRead = 00:00:00.050</c>:
    /// every call of a kind given here is delayed by it (or by <see cref="TailLatency"/>, for <see cref="TailRate"/> of them).
    /// </summary>
    public Dictionary<ChaosCallKind, TimeSpan> Latencies { get; set; } = [];

    /// <summary>Share of the calls of a kind in <see cref="Latencies"/> delayed by <see cref="TailLatency"/> instead of their base.</summary>
    [Range(0.0, 1.0, ErrorMessage = "Chaos:TailRate must be between 0 and 1.")]
    public double TailRate { get; set; }

    [Range(typeof(TimeSpan), "00:00:00", "00:05:00", ErrorMessage = "Chaos:TailLatency must be between 0 and 5 minutes.")]
    public TimeSpan TailLatency { get; set; }

    /// <summary>
    /// Seeds every decision. A decision depends on the seed and the call's identity (operation, target, and how many
    /// times that call was made before), not on thread timing, so a run with the same seed faults the same calls.
    /// </summary>
    public int Seed { get; set; } = 1;

    /// <summary>
    /// What these options ask for, with <see cref="LatencyProfile"/> applied: a profile's latencies under the ones set
    /// here, its tail (unless a tail is set here), and no faults. Options without a profile come back as they are.
    /// </summary>
    /// <exception cref="ArgumentException">The options are not valid (the message says which setting and why).</exception>
    public ChaosOptions Resolve()
    {
        if (Errors().FirstOrDefault() is { } error)
            throw new ArgumentException(error);
        if (string.IsNullOrWhiteSpace(LatencyProfile))
            return this;
        ChaosLatencyProfile profile = ChaosLatencyProfiles.Find(LatencyProfile)!;
        var latencies = new Dictionary<ChaosCallKind, TimeSpan>(profile.Latencies);
        foreach (var (kind, latency) in Latencies)
            latencies[kind] = latency;
        bool ownTail = TailRate > 0;
        return new ChaosOptions
        {
            Enabled = Enabled,
            FaultRate = 0,
            LostResponseShare = LostResponseShare,
            LatencyRate = 0,
            Latency = Latency,
            LatencyProfile = profile.Name,
            Latencies = latencies,
            TailRate = ownTail ? TailRate : profile.TailRate,
            TailLatency = ownTail ? TailLatency : profile.TailLatency,
            Seed = Seed,
        };
    }

    /// <summary>Every problem with these options, one sentence each naming its setting; none when they are valid.</summary>
    public IEnumerable<string> Errors()
    {
        var context = new ValidationContext(this);
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(this, context, results, validateAllProperties: true);
        return results.Select(r => r.ErrorMessage ?? "Chaos: invalid setting.");
    }

    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(LatencyProfile) && ChaosLatencyProfiles.Find(LatencyProfile) is null)
        {
            yield return new ValidationResult(
                $"Chaos:LatencyProfile '{LatencyProfile}' is not a known profile; known: {string.Join(", ", ChaosLatencyProfiles.Names)}.", [nameof(LatencyProfile)]);
        }
        foreach (var (kind, latency) in Latencies)
        {
            if (!Enum.IsDefined(kind))
                yield return new ValidationResult(string.Create(CultureInfo.InvariantCulture, $"Chaos:Latencies has an unknown kind {(int)kind}; kinds: {string.Join(", ", Enum.GetNames<ChaosCallKind>())}."), [nameof(Latencies)]);
            else if (latency < TimeSpan.Zero || latency > MaxLatency)
                yield return new ValidationResult($"Chaos:Latencies:{kind} must be between 0 and 5 minutes.", [nameof(Latencies)]);
        }
    }
}
