using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Resilience;

public static class ChaosHostingExtensions
{
    /// <summary>
    /// Wraps the registered <see cref="IBlobStore"/> and <see cref="IWorkQueueFactory"/> in <see cref="ChaosBlobStore"/> and
    /// <see cref="ChaosWorkQueueFactory"/>, with one <see cref="ChaosInjector"/> on section <c>Chaos</c>. For soak and
    /// fault tests: call it after <c>AddPipelineStorage</c> and <c>AddPipelineMessaging</c> (or your own registrations).
    /// </summary>
    public static IHostApplicationBuilder AddPipelineChaos(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IServiceCollection services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(ChaosInjector)))
            return builder;

        services.AddOptions<ChaosOptions>()
            .BindConfiguration(ChaosOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(provider => new ChaosInjector(provider.GetRequiredService<IOptions<ChaosOptions>>().Value, provider.GetRequiredService<TimeProvider>()));
        Decorate<IBlobStore>(services, (provider, store) => new ChaosBlobStore(store, provider.GetRequiredService<ChaosInjector>()));
        Decorate<IWorkQueueFactory>(services, (provider, queues) => new ChaosWorkQueueFactory(queues, provider.GetRequiredService<ChaosInjector>()));
        return builder;
    }

    private static void Decorate<TService>(IServiceCollection services, Func<IServiceProvider, TService, TService> wrap)
        where TService : class
    {
        ServiceDescriptor original = services.LastOrDefault(d => d.ServiceType == typeof(TService) && !d.IsKeyedService)
            ?? throw new InvalidOperationException($"AddPipelineChaos wraps {typeof(TService).Name}: register it first (AddPipelineStorage, AddPipelineMessaging).");
        services.Remove(original);
        services.AddSingleton(provider => wrap(provider, (TService)Create(provider, original)));
    }

    private static object Create(IServiceProvider provider, ServiceDescriptor descriptor) =>
        descriptor.ImplementationInstance
        ?? descriptor.ImplementationFactory?.Invoke(provider)
        ?? ActivatorUtilities.CreateInstance(provider, descriptor.ImplementationType!);
}
