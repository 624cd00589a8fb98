using AlexNet.Pipeline.Api;
using AlexNet.Pipeline.Functions.Retrain;
using AlexNet.Pipeline.Hosting;
using AlexNet.Pipeline.Ingest;
using AlexNet.Pipeline.Orchestrations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AlexNet.Pipeline.Functions;

public static class FunctionsHostingExtensions
{
    /// <summary>Everything the functions hand off to: telemetry, storage, messaging, ingest, the API and the orchestrations' activities.</summary>
    public static IHostApplicationBuilder AddPipelineFunctions(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddServiceDefaults();
        builder.AddPipelineStorage();
        builder.AddPipelineMessaging();
        builder.AddPipelineIngest();
        builder.AddPipelineApi();
        builder.Services.AddPipelineOrchestrations();
        builder.Services.AddOptions<RetrainScheduleOptions>().BindConfiguration(RetrainScheduleOptions.SectionName);
        return builder;
    }
}
