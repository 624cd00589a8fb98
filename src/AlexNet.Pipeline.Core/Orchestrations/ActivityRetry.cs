using Microsoft.DurableTask;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// The durable retry policy of the orchestrations' activities: storage or queue outages that outlast the SDK
/// clients' own retries get a few more tries, minutes apart, on durable timers. Bad input is not retried.
/// </summary>
public static class ActivityRetry
{
    public static TaskOptions Default { get; } = new(new TaskRetryOptions(new RetryPolicy(
        maxNumberOfAttempts: 5,
        firstRetryInterval: TimeSpan.FromSeconds(5),
        backoffCoefficient: 2,
        maxRetryInterval: TimeSpan.FromMinutes(2))
    {
        HandleFailure = failure => !failure.IsCausedBy<ArgumentException>() && !failure.IsCausedBy<InvalidDataException>(),
    }));
}
