using System.Text.Json;
using AlexNet.Pipeline.Api;
using AlexNet.Pipeline.Functions.Retrain;
using AlexNet.Pipeline.Hosting;
using AlexNet.Pipeline.Ingest;
using AlexNet.Pipeline.Orchestrations;
using Azure.Core.Serialization;
using Microsoft.Azure.Functions.Worker;
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
        builder.Services.Configure<WorkerOptions>(options => options.Serializer = Serializer);
        return builder;
    }

    /// <summary>
    /// The worker's serializer, which Durable Functions also uses for orchestration inputs, outputs and custom status, and
    /// for the 202 body of a started orchestration: camelCase like every other body of the API (the worker's default
    /// writes PascalCase, so the 202 said <c>"StatusQueryGetUri"</c> and progress <c>"Phase"</c>). Reading ignores case,
    /// so values stored by an earlier build while an orchestration was in flight still load.
    /// </summary>
    public static ObjectSerializer Serializer { get; } = new JsonObjectSerializer(new JsonSerializerOptions(JsonSerializerDefaults.Web));
}
