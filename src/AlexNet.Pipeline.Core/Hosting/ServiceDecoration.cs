using Microsoft.Extensions.DependencyInjection;

namespace AlexNet.Pipeline.Hosting;

/// <summary>Replaces a registered service by a decorator around it, for the chaos and the counting decorators.</summary>
internal static class ServiceDecoration
{
    /// <summary>Wraps the last non-keyed registration of <typeparamref name="TService"/>; <paramref name="caller"/> names who asked, when none is registered.</summary>
    public static void Decorate<TService>(this IServiceCollection services, string caller, Func<IServiceProvider, TService, TService> wrap)
        where TService : class
    {
        ServiceDescriptor original = services.LastOrDefault(d => d.ServiceType == typeof(TService) && !d.IsKeyedService)
            ?? throw new InvalidOperationException($"{caller} wraps {typeof(TService).Name}: register it first (AddPipelineStorage, AddPipelineMessaging).");
        services.Remove(original);
        services.AddSingleton(provider => wrap(provider, (TService)Create(provider, original)));
    }

    private static object Create(IServiceProvider provider, ServiceDescriptor descriptor) =>
        descriptor.ImplementationInstance
        ?? descriptor.ImplementationFactory?.Invoke(provider)
        ?? ActivatorUtilities.CreateInstance(provider, descriptor.ImplementationType!);
}
