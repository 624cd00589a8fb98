using System.Net;
using System.Net.Sockets;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Testing;

namespace AlexNet.Pipeline.Functions.Tests.Fixtures;

/// <summary>
/// Starts the in-process durable test host on a port the kernel says is free. Left to itself the host picks a port at
/// random, which can be a local port of one of the many Azurite connections the tests hold open ("address already
/// in use"); a port can still be taken between the check and the bind, so a refused bind is tried again on another.
/// </summary>
internal static class TestDurableHosts
{
    public static async Task<DurableTaskTestHost> StartAsync(Action<DurableTaskRegistry> register)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await DurableTaskTestHost.StartAsync(register, new DurableTaskTestHostOptions { Port = FreePort() });
            }
            catch (IOException) when (attempt < 5)
            {
                // Taken between the check and the bind: another port.
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
