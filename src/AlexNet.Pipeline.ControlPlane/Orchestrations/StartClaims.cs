using System.Globalization;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// One start per instance id, however many callers race: a claim blob <c>runs/&lt;instance&gt;/start.json</c> written
/// create-if-absent before the orchestration is scheduled. The engines' own checks are not atomic (the Durable Task
/// Framework on Azure Storage let 20 concurrent starts of one empty batch all schedule it and answer 202). A claim is
/// taken over, with the claim's ETag as a condition so only one caller wins, when its instance failed or was
/// terminated after the claim was written (a failed batch may be started again; a claim newer than the failure is
/// a restart already under way), or when no instance appeared within <see cref="Settle"/> of the claim (its
/// caller died between claiming and scheduling).
/// </summary>
public sealed class StartClaims(IBlobStore store, TimeProvider time)
{
    public const string ClaimFile = "start.json";

    /// <summary>How long a claim without an instance is left to its caller before another may take it.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromMinutes(2);

    public static string ClaimBlob(string instanceId) => $"{instanceId}/{ClaimFile}";

    /// <summary>True when this caller may schedule <paramref name="instanceId"/>; false when another start has it.</summary>
    public async Task<bool> TryClaimAsync(
        string instanceId, Func<CancellationToken, Task<OrchestrationStatus>> status, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(status);
        string name = ClaimBlob(instanceId);
        var claim = BinaryData.FromString(string.Create(CultureInfo.InvariantCulture,
            $$"""{"instanceId":"{{instanceId}}","claimedAt":"{{time.GetUtcNow():O}}"}"""));
        if (await store.CreateIfAbsentAsync(PipelineNames.RunsContainer, name, claim, "application/json", cancellationToken).ConfigureAwait(false) == CreateOutcome.Created)
            return true;

        BlobEntry? existing = await store.GetEntryAsync(PipelineNames.RunsContainer, name, cancellationToken).ConfigureAwait(false);
        if (existing is null)
            return false; // removed meanwhile: a later request starts afresh
        OrchestrationStatus current = await status(cancellationToken).ConfigureAwait(false);
        bool ended = current.State is OrchestrationState.Failed or OrchestrationState.Terminated;
        bool settled = time.GetUtcNow() - existing.LastModified > Settle;
        bool free = (ended && (settled || existing.LastModified <= current.LastUpdatedAt))
            || (current.State == OrchestrationState.NotFound && settled);
        if (!free)
            return false;
        try
        {
            await store.UploadAsync(PipelineNames.RunsContainer, name, claim, "application/json", existing.ETag, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (BlobConflictException)
        {
            return false; // another caller took it over first
        }
    }
}
