using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AlexNet.Pipeline.Orchestrations;

public static class OrchestrationServiceExtensions
{
    /// <summary>
    /// Registers every activity of <see cref="OrchestrationRegistry"/> (transient: one per invocation) and the services
    /// they take besides storage and messaging: <see cref="BatchReport"/> and <see cref="ModelRegistry"/>, and
    /// <see cref="TimeProvider"/>. Both hosts call it: the Functions app and the local engine.
    /// </summary>
    public static IServiceCollection AddPipelineOrchestrations(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<BatchReport>();
        services.TryAddSingleton<ModelRegistry>();
        foreach (DurableTaskType activity in OrchestrationRegistry.Activities)
            services.TryAddTransient(activity.Type);
        return services;
    }
}
