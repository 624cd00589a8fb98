using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace AlexNet.Pipeline.Tests.Fixtures;

/// <summary>Hosts built the way Program.cs builds them, with configuration given inline.</summary>
public static class TestHosts
{
    public static HostApplicationBuilder Builder(params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        return builder;
    }
}
