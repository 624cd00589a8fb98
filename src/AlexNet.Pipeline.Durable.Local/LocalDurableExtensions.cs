using AlexNet.Pipeline.Hosting;
using AlexNet.Pipeline.Orchestrations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Durable;

public static class LocalDurableExtensions
{
    /// <summary>
    /// Adds the local durable engine (a hosted service running every orchestration of the pipeline on the task hub of
    /// section <c>Durable</c>), <see cref="IOrchestrationClient"/> over it, and the orchestrations' activities with
    /// their services. Storage and messaging come from <c>AddPipelineStorage</c> and <c>AddPipelineMessaging</c>.
    /// </summary>
    public static IHostApplicationBuilder AddLocalDurableEngine(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IServiceCollection services = builder.Services;
        services.AddPipelineOrchestrations();
        services.AddOptions<LocalDurableOptions>()
            .BindConfiguration(LocalDurableOptions.SectionName)
            .PostConfigure<IConfiguration>((options, configuration) =>
                options.ConnectionString ??= configuration[$"{StorageOptions.SectionName}:{nameof(StorageOptions.ConnectionString)}"])
            .ValidateDataAnnotations()
            .Validate(o => !string.IsNullOrWhiteSpace(o.ConnectionString),
                "Durable:ConnectionString or Storage:ConnectionString (e.g. 'UseDevelopmentStorage=true' for Azurite) must be set for the local durable engine.")
            .ValidateOnStart();
        services.TryAddSingleton<LocalOrchestrationClient>();
        services.TryAddSingleton<IOrchestrationClient>(provider => provider.GetRequiredService<LocalOrchestrationClient>());
        services.AddHostedService<LocalDurableEngine>();
        return builder;
    }
}
