using AlexNet.Pipeline.Hosting;
using AlexNet.Pipeline.Resilience;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Worker;

/// <summary>The worker's host: the pipeline's defaults, storage, messaging, both loops and the health endpoints.</summary>
public static class WorkerApplication
{
    public const string LivePath = "/health/live";
    public const string ReadyPath = "/health/ready";

    /// <param name="configure">A last say over the builder before it is built (tests use it for a test server and settings).</param>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults();
        builder.AddPipelineStorage();
        builder.AddPipelineMessaging();
        // Fault injection (game days, the process-kill tests): on only when Chaos:Enabled is set to true.
        bool chaos = builder.Configuration.GetValue<bool>($"{ChaosOptions.SectionName}:{nameof(ChaosOptions.Enabled)}");
        if (chaos)
            builder.AddPipelineChaos();
        builder.AddLabelWorker();
        builder.AddTrainWorker();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapHealthEndpoints();
        if (chaos)
            app.Logger.LogWarning("Fault injection is on (section {Section}): storage and queue calls fail or slow down on purpose.", ChaosOptions.SectionName);
        return app;
    }

    /// <summary><c>/health/live</c>: the process answers. <c>/health/ready</c>: a model is loaded and the queues answer.</summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapHealthChecks(LivePath, new HealthCheckOptions { Predicate = check => check.Tags.Contains(HealthTags.Live), ResponseWriter = WriteAsync });
        endpoints.MapHealthChecks(ReadyPath, new HealthCheckOptions { Predicate = check => check.Tags.Contains(HealthTags.Ready), ResponseWriter = WriteAsync });
        return endpoints;
    }

    // One line per check, so a probe's log (or curl) says which check failed and why.
    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        var lines = report.Entries.Select(e => $"{e.Key}: {e.Value.Status}{(e.Value.Description is { } d ? $" - {d}" : "")}");
        return context.Response.WriteAsync($"{report.Status}\n{string.Join('\n', lines)}\n");
    }
}
