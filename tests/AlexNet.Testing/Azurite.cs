using System.Text.RegularExpressions;
using AlexNet.Pipeline.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace AlexNet.Testing;

/// <summary>
/// Azurite on its default ports (127.0.0.1:10000-10002: <c>scripts/azurite.sh start</c>, which CI runs), shared by
/// every test project. A missing Azurite fails the tests that need it with the way out, never skips them: they are
/// what proves the Azure adapters.
/// </summary>
public static partial class Azurite
{
    public const string ConnectionString = "UseDevelopmentStorage=true";

    /// <summary>Azurite's well-known development account, for clients built from a URL.</summary>
    public const string AccountName = "devstoreaccount1";

    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly Lazy<int> LeftoversRemoved = new(RemoveLeftovers);

    /// <summary>Fails with the way out unless the blob and queue services (and, with <paramref name="tables"/>, the table service: the durable engine's) listen.</summary>
    public static void Require(bool tables = false)
    {
        if (tables)
            LocalPorts.RequireAzurite(("Blob", 10000), ("Queue", 10001), ("Table", 10002));
        else
            LocalPorts.RequireAzurite(("Blob", 10000), ("Queue", 10001));
    }

    /// <summary>A blob store on Azurite whose containers no other test (or earlier run) uses.</summary>
    public static IsolatedBlobStore IsolatedStore()
    {
        Require();
        _ = LeftoversRemoved.Value;
        return new IsolatedBlobStore(
            new AzureBlobStore(new BlobServiceClient(ConnectionString), NullLogger<AzureBlobStore>.Instance),
            Guid.NewGuid().ToString("N")[..12]);
    }

    /// <summary>A queue name for the Storage Queue backend that no other test uses.</summary>
    public static string QueueName(string purpose)
    {
        Require();
        return $"{purpose}-{Guid.NewGuid():N}"[..Math.Min(purpose.Length + 25, 50)];
    }

    /// <summary>A container or batch name no other test or earlier run uses.</summary>
    public static string Unique(string purpose) => $"{purpose}-{Guid.NewGuid():N}"[..Math.Min(purpose.Length + 1 + 20, 60)];

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
}
