using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Models;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// Makes the candidate current through <see cref="ModelRegistry.PromoteAsync"/> (a conditional pointer write), unless
/// another version became current since the candidate was compared with <see cref="PromoteInput.ExpectedCurrent"/>.
/// Running it again after it succeeded finds the candidate current and reports that.
/// </summary>
[DurableTask(OrchestrationNames.Promote)]
public sealed partial class PromoteActivity(ModelRegistry models, ILogger<PromoteActivity> logger) : TaskActivity<PromoteInput, PromoteResult>
{
    public override async Task<PromoteResult> RunAsync(TaskActivityContext context, PromoteInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CurrentModelPointer? current = await models.GetCurrentAsync().ConfigureAwait(false);
        if (current?.Version == input.CandidateVersion)
            return new PromoteResult(true, current.Version, current.Previous, current.Reason ?? input.Reason);
        if (current?.Version != input.ExpectedCurrent)
        {
            string reason = $"not promoted: the current model changed from {input.ExpectedCurrent ?? "none"} to {current?.Version ?? "none"} while {input.CandidateVersion} was trained and evaluated";
            return new PromoteResult(false, current?.Version ?? "", current?.Previous, reason);
        }

        CurrentModelPointer promoted = await models.PromoteAsync(input.CandidateVersion, input.Reason).ConfigureAwait(false);
        Promoted(logger, promoted.Version, promoted.Previous);
        return new PromoteResult(true, promoted.Version, promoted.Previous, input.Reason);
    }

    [LoggerMessage(1, LogLevel.Information, "Promoted model {Version} (previous {Previous})")]
    private static partial void Promoted(ILogger logger, string version, string? previous);
}
