using Microsoft.DurableTask;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// The durable retry policy of the orchestrations' activities: storage or queue outages that outlast the SDK
/// clients' own retries get a few more tries, minutes apart, on durable timers. Bad input, and a host that cannot load
/// what the activity needs (a type initialiser or a native library), fail at once: trying again cannot help.
/// </summary>
public static class ActivityRetry
{
    public static TaskOptions Default { get; } = new(new TaskRetryOptions(new RetryPolicy(
        maxNumberOfAttempts: 5,
        firstRetryInterval: TimeSpan.FromSeconds(5),
        backoffCoefficient: 2,
        maxRetryInterval: TimeSpan.FromMinutes(2))
    {
        HandleFailure = failure => !IsPermanent(failure),
    }));

    public static bool IsPermanent(TaskFailureDetails failure) =>
        failure.IsCausedBy<ArgumentException>() || failure.IsCausedBy<InvalidDataException>() || failure.IsCausedBy<TypeInitializationException>() ||
        failure.IsCausedBy<DllNotFoundException>() || failure.IsCausedBy<BadImageFormatException>() || failure.IsCausedBy<NotSupportedException>();
}
