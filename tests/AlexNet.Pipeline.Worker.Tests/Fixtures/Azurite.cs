using System.Text.RegularExpressions;
using AlexNet.Pipeline.Storage;
using AlexNet.Testing;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace AlexNet.Pipeline.Worker.Tests.Fixtures;

/// <summary>
/// Azurite on its default ports (<c>scripts/azurite.sh start</c>, which CI runs). A missing Azurite fails the
/// test with the way out, never skips it.
/// </summary>
public static partial class Azurite
{
    public const string ConnectionString = "UseDevelopmentStorage=true";

    private static readonly Lazy<int> LeftoversRemoved = new(RemoveLeftovers);

    /// <summary>A blob store on Azurite whose containers no other test (or earlier run) uses.</summary>
    public static IsolatedBlobStore IsolatedStore()
    {
        RequireRunning();
        _ = LeftoversRemoved.Value;
        return new IsolatedBlobStore(
            new AzureBlobStore(new BlobServiceClient(ConnectionString), NullLogger<AzureBlobStore>.Instance),
            Guid.NewGuid().ToString("N")[..12]);
    }

    /// <summary>
    /// Deletes isolated containers (<c>&lt;name&gt;-&lt;12 hex digits&gt;</c>) that earlier runs left on the shared
    /// Azurite, once per run: a run leaves gigabytes of images and models behind, and a developer's Azurite grew by that
    /// much each time. Only containers created over two hours ago go, so runs beside this one keep theirs.
    /// </summary>
    private static int RemoveLeftovers()
    {
        var service = new BlobServiceClient(ConnectionString);
        DateTimeOffset before = DateTimeOffset.UtcNow.AddHours(-2);
        int removed = 0;
        foreach (BlobContainerItem container in service.GetBlobContainers())
        {
            if (IsolatedName().IsMatch(container.Name) && container.Properties.LastModified < before)
            {
                service.DeleteBlobContainer(container.Name);
                removed++;
            }
        }
        return removed;
    }

    [GeneratedRegex("^[a-z]+-[0-9a-f]{12}$")]
    private static partial Regex IsolatedName();

    /// <summary>A queue name for the Storage Queue backend that no other test uses.</summary>
    public static string QueueName(string purpose)
    {
        RequireRunning();
        return $"{purpose}-{Guid.NewGuid():N}"[..Math.Min(purpose.Length + 25, 50)];
    }

    public static void RequireRunning() => LocalPorts.RequireAzurite(("Blob", 10000), ("Queue", 10001));
}
