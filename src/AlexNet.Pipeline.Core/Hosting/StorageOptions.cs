using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Hosting;

public enum StorageBackend
{
    /// <summary>Azure Blob Storage, or Azurite with <c>UseDevelopmentStorage=true</c>.</summary>
    Azure,

    /// <summary>A folder on this machine (<see cref="StorageOptions.LocalRoot"/>).</summary>
    Local,
}

/// <summary>
/// Configuration section <c>Storage</c>. Either a connection string (<c>Storage:ConnectionString</c>, e.g.
/// <c>UseDevelopmentStorage=true</c> for Azurite) or identity: <c>Storage:blobServiceUri</c> and
/// <c>Storage:queueServiceUri</c> with DefaultAzureCredential, or a user-assigned managed identity when
/// <c>Storage:clientId</c> is set. These are the key names the Functions host uses for identity connections.
/// </summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    public StorageBackend Backend { get; set; } = StorageBackend.Azure;

    /// <summary>Root folder of the local backend; containers are its sub-folders.</summary>
    public string? LocalRoot { get; set; }

    public string? ConnectionString { get; set; }

    public Uri? BlobServiceUri { get; set; }

    public Uri? QueueServiceUri { get; set; }

    /// <summary>Client id of a user-assigned managed identity; without it, DefaultAzureCredential.</summary>
    public string? ClientId { get; set; }

    /// <summary>Retries of a failed request (exponential back-off) by the storage clients.</summary>
    [Range(0, 20, ErrorMessage = "Storage:MaxRetries must be between 0 and 20.")]
    public int MaxRetries { get; set; } = 5;

    /// <summary>Time allowed for one try of a request before it counts as failed and is retried.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Storage:NetworkTimeout must be between 1 second and 1 hour.")]
    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(100);

    internal bool HasConnectionString => !string.IsNullOrWhiteSpace(ConnectionString);
}

/// <summary>Checks the settings the chosen backend needs, naming the missing ones.</summary>
internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        switch (options.Backend)
        {
            case StorageBackend.Local when string.IsNullOrWhiteSpace(options.LocalRoot):
                return ValidateOptionsResult.Fail("Storage:LocalRoot must be set when Storage:Backend is 'local'.");
            case StorageBackend.Azure when !options.HasConnectionString && options.BlobServiceUri is null:
                return ValidateOptionsResult.Fail(
                    "Storage:ConnectionString (e.g. 'UseDevelopmentStorage=true' for Azurite) or Storage:blobServiceUri must be set when Storage:Backend is 'azure'.");
            default:
                return ValidateOptionsResult.Success;
        }
    }
}
