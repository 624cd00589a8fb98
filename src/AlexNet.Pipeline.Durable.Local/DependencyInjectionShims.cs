using AlexNet.Pipeline.Orchestrations;
using DurableTask.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.DependencyInjection;

namespace AlexNet.Pipeline.Durable;

/// <summary>
/// Hands the framework a shim around a fresh orchestrator for each work item. Orchestrators hold no services (they
/// must be deterministic), so they are plain instances.
/// </summary>
internal sealed class ShimOrchestrationManager(DurableTaskShimFactory shims, IEnumerable<DurableTaskType> orchestrators)
    : INameVersionObjectManager<TaskOrchestration>
{
    private readonly Dictionary<string, Type> types = orchestrators.ToDictionary(t => t.Name, t => t.Type, StringComparer.Ordinal);

    public void Add(ObjectCreator<TaskOrchestration> creator) =>
        throw new NotSupportedException("orchestrators come from OrchestrationRegistry");

    public TaskOrchestration? GetObject(string name, string? version) =>
        types.TryGetValue(name, out Type? type)
            ? shims.CreateOrchestration(new TaskName(name), (ITaskOrchestrator)Activator.CreateInstance(type)!)
            : null;
}

/// <summary>
/// Hands the framework a shim whose activity is resolved from a new DI scope for each invocation, so activities
/// get their constructor-injected services exactly as the Functions host gives them.
/// </summary>
internal sealed class ShimActivityManager(DurableTaskShimFactory shims, IServiceProvider services, IEnumerable<DurableTaskType> activities)
    : INameVersionObjectManager<TaskActivity>
{
    private readonly Dictionary<string, DurableTaskType> types = activities.ToDictionary(t => t.Name, StringComparer.Ordinal);

    public void Add(ObjectCreator<TaskActivity> creator) =>
        throw new NotSupportedException("activities come from OrchestrationRegistry");

    public TaskActivity? GetObject(string name, string? version) =>
        types.TryGetValue(name, out DurableTaskType? type)
            ? shims.CreateActivity(new TaskName(name), new ScopedActivity(services, type))
            : null;

    private sealed class ScopedActivity(IServiceProvider services, DurableTaskType type) : ITaskActivity
    {
        public Type InputType => type.InputType;

        public Type OutputType => type.OutputType;

        public async Task<object?> RunAsync(TaskActivityContext context, object? input)
        {
            await using AsyncServiceScope scope = services.CreateAsyncScope();
            var activity = (ITaskActivity)scope.ServiceProvider.GetRequiredService(type.Type);
            return await activity.RunAsync(context, input).ConfigureAwait(false);
        }
    }
}
