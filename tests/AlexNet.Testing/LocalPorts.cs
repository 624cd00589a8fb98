using System.Net.Sockets;

namespace AlexNet.Testing;

/// <summary>Whether local services (Azurite, CI starts it with <c>scripts/azurite.sh start</c>) listen.</summary>
public static class LocalPorts
{
    /// <summary>
    /// Fails with the way out when one of Azurite's services does not answer on 127.0.0.1: the tests that need it prove
    /// the Azure adapters, so a missing Azurite is a failure, never a skip.
    /// </summary>
    public static void RequireAzurite(params (string Service, int Port)[] services)
    {
        foreach (var (service, port) in services)
        {
            if (!Listening(port))
                throw new InvalidOperationException($"Azurite's {service} service is not listening on 127.0.0.1:{port}; start it: bash scripts/azurite.sh start");
        }
    }

    public static bool Listening(int port)
    {
        using var client = new TcpClient();
        try
        {
            return client.ConnectAsync("127.0.0.1", port).Wait(TimeSpan.FromSeconds(2)) && client.Connected;
        }
        catch (AggregateException error) when (error.InnerException is SocketException)
        {
            return false;
        }
    }
}
