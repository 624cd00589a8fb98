using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AlexNet.Pipeline.Hosting;

/// <summary>Health check tags shared by the hosts.</summary>
public static class HealthTags
{
    /// <summary>Checks that say the process is up (<c>/health/live</c>).</summary>
    public const string Live = "live";

    /// <summary>Checks that say the process can take work (<c>/health/ready</c>).</summary>
    public const string Ready = "ready";
}

/// <summary>
/// What every host of the pipeline (the GPU worker, the Functions app, the local pipeline) sets up the same way:
/// OpenTelemetry metrics, traces and logs for the pipeline's own meters and sources, exported over OTLP when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, and health checks with a liveness check.
/// </summary>
public static class ServiceDefaults
{
    /// <summary>Meters and activity sources of the pipeline: <c>AlexNet.Pipeline.Worker</c>, <c>AlexNet.Pipeline.Functions</c>, ...</summary>
    public const string PipelineTelemetry = "AlexNet.*";

    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddLogPolicy(builder.Logging);
        builder.ConfigureOpenTelemetry();
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy("process is running"), [HealthTags.Live]);
        return builder;
    }

    /// <summary>
    /// The one log policy of every host, set in the app because a Functions worker's logs reach the host under
    /// <c>Function.&lt;name&gt;.User</c>, where host.json's categories cannot filter them: the Azure SDK (its event
    /// sources, forwarded by <c>AddAzureClients</c> as <c>Azure.*</c> categories) logs at Warning and above, Azure.Core
    /// at Error, because it logs every request at Information and every expected 404 (a marker polled for before it
    /// exists) as a warning. Failures that matter surface as exceptions the pipeline logs itself. Configuration
    /// (<c>Logging:LogLevel:Azure.Core</c>) still overrides these.
    /// </summary>
    public static void AddLogPolicy(ILoggingBuilder logging)
    {
        ArgumentNullException.ThrowIfNull(logging);
        logging.Services.Configure<LoggerFilterOptions>(options =>
        {
            // First in the list, so a configured rule for the same category, added later, wins.
            options.Rules.Insert(0, new LoggerFilterRule(null, "Azure", LogLevel.Warning, null));
            options.Rules.Insert(1, new LoggerFilterRule(null, "Azure.Core", LogLevel.Error, null));
        });
    }

    public static IHostApplicationBuilder ConfigureOpenTelemetry(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, when set, are read by the SDK and win over this default.
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Environment.ApplicationName))
            .WithMetrics(metrics => metrics
                .AddMeter(PipelineTelemetry)
                .AddMeter("Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http")
                .AddRuntimeInstrumentation())
            .WithTracing(tracing => tracing.AddSource(PipelineTelemetry));

        // Without an endpoint nothing is exported: the SDK still collects, which costs little, and tests can read it.
        if (!string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointKey]))
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        return builder;
    }
}
