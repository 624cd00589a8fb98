using AlexNet.Imaging;
using AlexNet.Pipeline.Hosting;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Worker;

/// <summary>
/// Registers the worker's loops on any host (the GPU worker's web host, the local pipeline's generic host). They
/// need <see cref="IBlobStore"/> and <see cref="Messaging.IWorkQueueFactory"/>: call AddPipelineStorage and
/// AddPipelineMessaging too (or register your own).
/// </summary>
public static class WorkerHostingExtensions
{
    /// <summary>
    /// The label loop (<see cref="LabelWorker"/>) with options section <c>Worker</c> (validated at start), the model
    /// holder on the placement <c>Worker:Device</c>/<c>Worker:Layout</c> decide, metrics, and the readiness checks
    /// <c>model</c> and <c>queue</c> (tag <see cref="HealthTags.Ready"/>).
    /// </summary>
    public static IHostApplicationBuilder AddLabelWorker(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddWorkerServices(builder.Services);
        builder.Services.AddHostedService<LabelWorker>();
        builder.Services.AddHealthChecks()
            .AddCheck<ModelLoadedHealthCheck>("model", tags: [HealthTags.Ready])
            .AddCheck<QueueReachableHealthCheck>("queue", tags: [HealthTags.Ready]);
        return builder;
    }

    /// <summary>The train loop (<see cref="TrainWorker"/>) on <c>Messaging:TrainQueue</c>; it idles when <c>Worker:TrainingEnabled</c> is false.</summary>
    public static IHostApplicationBuilder AddTrainWorker(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddWorkerServices(builder.Services);
        builder.Services.AddHostedService<TrainWorker>();
        return builder;
    }

    private static void AddWorkerServices(IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(WorkerTelemetry)))
            return;

        services.AddOptions<WorkerOptions>()
            .BindConfiguration(WorkerOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WorkerOptions>, WorkerOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<WorkerTelemetry>();
        services.TryAddSingleton<QueueHealth>();
        services.TryAddSingleton(provider => new ModelRegistry(provider.GetRequiredService<IBlobStore>(), provider.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(provider => DevicePlacement.ForThisMachine(provider.GetRequiredService<IOptions<WorkerOptions>>().Value));
        services.TryAddSingleton<ModelHolder>();
        services.TryAddSingleton(_ => new ImageDecoder());
        services.TryAddSingleton<LabelQueueProcessor>();
        services.TryAddSingleton<ICandidateEvaluator, ValidationSetEvaluator>();
        services.TryAddSingleton<CandidateEvaluation>();
        services.TryAddSingleton<TrainJobProcessor>();
    }
}
