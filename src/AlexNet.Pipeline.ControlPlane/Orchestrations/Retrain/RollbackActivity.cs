using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Models;
using Microsoft.DurableTask;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>One step back (<see cref="ModelRegistry.RollbackAsync"/>): the previous version becomes current again. Input: the reason.</summary>
[DurableTask(OrchestrationNames.Rollback)]
public sealed class RollbackActivity(ModelRegistry models) : TaskActivity<string, CurrentModelPointer>
{
    public override Task<CurrentModelPointer> RunAsync(TaskActivityContext context, string input) =>
        models.RollbackAsync(string.IsNullOrWhiteSpace(input) ? "rollback" : input);
}
