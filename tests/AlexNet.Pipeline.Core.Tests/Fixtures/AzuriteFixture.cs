using System.Net.Sockets;

namespace AlexNet.Pipeline.Tests.Fixtures;

/// <summary>
/// Azurite on its default ports, which <c>scripts/azurite.sh start</c> (and CI) starts. A missing Azurite is a
/// failure with a way out, never a silent skip: the tests that need it are the ones that prove the Azure adapters.
/// </summary>
public sealed class AzuriteFixture
{
    public const string ConnectionString = "UseDevelopmentStorage=true";

    private static readonly (string Service, int Port)[] Endpoints = [("Blob", 10000), ("Queue", 10001)];

    public AzuriteFixture()
    {
        foreach (var (service, port) in Endpoints)
        {
            if (!Answers(port))
            {
                throw new InvalidOperationException(
                    $"Azurite's {service} service is not listening on 127.0.0.1:{port}; start it: scripts/azurite.sh start");
            }
        }
    }

    private static bool Answers(int port)
    {
        using var client = new TcpClient();
        try
        {
            return client.ConnectAsync("127.0.0.1", port).Wait(TimeSpan.FromSeconds(2)) && client.Connected;
        }
        catch (AggregateException ex) when (ex.InnerException is SocketException)
        {
            return false;
        }
    }
}
