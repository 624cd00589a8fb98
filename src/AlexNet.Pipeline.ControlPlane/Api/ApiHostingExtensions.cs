using AlexNet.Pipeline.Hosting;
using AlexNet.Pipeline.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace AlexNet.Pipeline.Api;

public static class ApiHostingExtensions
{
    /// <summary>
    /// Adds <see cref="PipelineApiFactory"/> and the <see cref="ModelRegistry"/> it uses, over the pipeline storage. A
    /// host with one orchestration client for its life registers it and <see cref="PipelineApi"/> itself; the
    /// Functions app makes an API per invocation from its bound client.
    /// </summary>
    public static IHostApplicationBuilder AddPipelineApi(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddPipelineStorage();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<ModelRegistry>();
        builder.Services.TryAddSingleton<PipelineApiFactory>();
        return builder;
    }
}
