using AlexNet.Pipeline.Hosting;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AlexNet.Pipeline.Metering;

public static class RequestCountingExtensions
{
    /// <summary>
    /// Wraps the registered <see cref="IBlobStore"/> and <see cref="IWorkQueueFactory"/> in <see cref="CountingBlobStore"/>
    /// and <see cref="CountingWorkQueueFactory"/>, both counting into one <see cref="RequestCounter"/> singleton: the
    /// requests a host makes, by kind. Call it after <c>AddPipelineStorage</c> and <c>AddPipelineMessaging</c>. With
    /// <c>AddPipelineChaos</c> the order decides what counts: called after it, the requests chaos failed count too.
    /// </summary>
    public static IHostApplicationBuilder AddRequestCounting(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IServiceCollection services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(RequestCounter)))
            return builder;

        services.AddSingleton<RequestCounter>();
        services.Decorate<IBlobStore>(nameof(AddRequestCounting), (provider, store) => new CountingBlobStore(store, provider.GetRequiredService<RequestCounter>()));
        services.Decorate<IWorkQueueFactory>(nameof(AddRequestCounting), (provider, queues) => new CountingWorkQueueFactory(queues, provider.GetRequiredService<RequestCounter>()));
        return builder;
    }
}
