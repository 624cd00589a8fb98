using AlexNet.Pipeline.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Tests.Hosting;

/// <summary>
/// The log policy is the app's own (a Functions worker's logs reach the host under its function's category, where
/// host.json cannot filter the Azure SDK): requests and expected 404s stay out, the pipeline's own logs and the
/// SDK's errors stay in, and configuration can still turn the SDK up.
/// </summary>
public sealed class LogPolicyTests
{
    [Theory]
    [InlineData("Azure.Core", LogLevel.Information, false)] // every request
    [InlineData("Azure.Core", LogLevel.Warning, false)] // a 404 while polling for a marker
    [InlineData("Azure.Core", LogLevel.Error, true)]
    [InlineData("Azure.Messaging.ServiceBus", LogLevel.Information, false)]
    [InlineData("Azure.Messaging.ServiceBus", LogLevel.Warning, true)]
    [InlineData("AlexNet.Pipeline.Worker.LabelQueueProcessor", LogLevel.Information, true)]
    public void TheAzureSdkIsQuietAndThePipelineIsNot(string category, LogLevel level, bool enabled)
    {
        using IHost host = Build();

        Assert.Equal(enabled, host.Services.GetRequiredService<ILoggerFactory>().CreateLogger(category).IsEnabled(level));
    }

    [Fact]
    public void ConfigurationStillTurnsTheSdkUp()
    {
        using IHost host = Build(("Logging:LogLevel:Azure.Core", "Information"));

        Assert.True(host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Azure.Core").IsEnabled(LogLevel.Information));
    }

    private static IHost Build(params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Production });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        builder.AddServiceDefaults();
        return builder.Build();
    }
}
