using System.Net.Sockets;

namespace AlexNet.Pipeline.Functions.Tests.Fixtures;

/// <summary>
/// Azurite on its default ports (<c>scripts/azurite.sh start</c>, and CI). Missing, it fails the tests that need it
/// with the way out, never skips them: they are what proves the storage paths.
/// </summary>
public static class Azurite
{
    public const string ConnectionString = "UseDevelopmentStorage=true";

    /// <summary>Azurite's well-known development account, for clients built from a URL.</summary>
    public const string AccountName = "devstoreaccount1";

    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public static void EnsureRunning()
    {
        foreach (var (service, port) in new[] { ("Blob", 10000), ("Queue", 10001) })
        {
            using var client = new TcpClient();
            bool answers;
            try
            {
                answers = client.ConnectAsync("127.0.0.1", port).Wait(TimeSpan.FromSeconds(2)) && client.Connected;
            }
            catch (AggregateException e) when (e.InnerException is SocketException)
            {
                answers = false;
            }

            if (!answers)
                throw new InvalidOperationException($"Azurite's {service} service is not listening on 127.0.0.1:{port}; start it: scripts/azurite.sh start");
        }
    }

    /// <summary>A container or batch name no other test or earlier run uses.</summary>
    public static string Unique(string purpose) => $"{purpose}-{Guid.NewGuid():N}"[..Math.Min(purpose.Length + 1 + 20, 60)];
}
