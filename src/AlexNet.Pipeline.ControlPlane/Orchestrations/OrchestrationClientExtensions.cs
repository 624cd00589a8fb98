namespace AlexNet.Pipeline.Orchestrations;

public static class OrchestrationClientExtensions
{
    /// <summary>
    /// Polls an orchestration every <paramref name="poll"/> (waiting once before the first look) until it is neither
    /// pending nor running, and returns that status: completed, failed, terminated or not found. <paramref name="whileRunning"/>
    /// sees every status read before that (to show progress).
    /// </summary>
    public static async Task<OrchestrationStatus> WaitForEndAsync(
        this IOrchestrationClient client, string instanceId, TimeSpan poll, TimeProvider time, CancellationToken cancellationToken = default,
        Action<OrchestrationStatus>? whileRunning = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        while (true)
        {
            await Task.Delay(poll, time, cancellationToken).ConfigureAwait(false);
            OrchestrationStatus status = await client.GetStatusAsync(instanceId, cancellationToken).ConfigureAwait(false);
            if (status.State is not (OrchestrationState.Pending or OrchestrationState.Running))
                return status;
            whileRunning?.Invoke(status);
        }
    }
}
