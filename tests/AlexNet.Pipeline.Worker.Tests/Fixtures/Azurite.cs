using System.Net.Sockets;
using AlexNet.Pipeline.Storage;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging.Abstractions;

namespace AlexNet.Pipeline.Worker.Tests.Fixtures;

/// <summary>
/// Azurite on its default ports (<c>scripts/azurite.sh start</c>, which CI runs). A missing Azurite fails the
/// test with the way out, never skips it.
/// </summary>
public static class Azurite
{
    public const string ConnectionString = "UseDevelopmentStorage=true";

    /// <summary>A blob store on Azurite whose containers no other test (or earlier run) uses.</summary>
    public static IsolatedBlobStore IsolatedStore()
    {
        RequireRunning();
        return new IsolatedBlobStore(
            new AzureBlobStore(new BlobServiceClient(ConnectionString), NullLogger<AzureBlobStore>.Instance),
            Guid.NewGuid().ToString("N")[..12]);
    }

    /// <summary>A queue name for the Storage Queue backend that no other test uses.</summary>
    public static string QueueName(string purpose)
    {
        RequireRunning();
        return $"{purpose}-{Guid.NewGuid():N}"[..Math.Min(purpose.Length + 25, 50)];
    }

    public static void RequireRunning()
    {
        foreach (var (service, port) in new[] { ("Blob", 10000), ("Queue", 10001) })
        {
            using var client = new TcpClient();
            bool answers;
            try
            {
                answers = client.ConnectAsync("127.0.0.1", port).Wait(TimeSpan.FromSeconds(2)) && client.Connected;
            }
            catch (AggregateException error) when (error.InnerException is SocketException)
            {
                answers = false;
            }
            if (!answers)
                throw new InvalidOperationException($"Azurite's {service} service is not listening on 127.0.0.1:{port}; start it: bash scripts/azurite.sh start");
        }
    }
}
