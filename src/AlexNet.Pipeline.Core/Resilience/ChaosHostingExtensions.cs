using AlexNet.Pipeline.Hosting;
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
            .ValidateOnStart();
        // The options' own sentences (ChaosOptions.Errors), each naming its setting, rather than the annotations' wrapper.
        services.AddSingleton<IValidateOptions<ChaosOptions>, ChaosOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(provider => new ChaosInjector(provider.GetRequiredService<IOptions<ChaosOptions>>().Value, provider.GetRequiredService<TimeProvider>()));
        services.Decorate<IBlobStore>(nameof(AddPipelineChaos), (provider, store) => new ChaosBlobStore(store, provider.GetRequiredService<ChaosInjector>()));
        services.Decorate<IWorkQueueFactory>(nameof(AddPipelineChaos), (provider, queues) => new ChaosWorkQueueFactory(queues, provider.GetRequiredService<ChaosInjector>()));
        return builder;
    }
}

internal sealed class ChaosOptionsValidator : IValidateOptions<ChaosOptions>
{
    public ValidateOptionsResult Validate(string? name, ChaosOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string> errors = [.. options.Errors()];
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
