using System.ComponentModel.DataAnnotations;

namespace AlexNet.Pipeline.Hosting;

/// <summary>
/// Configuration section <c>ServiceBus</c>: a connection string (<c>ServiceBus:ConnectionString</c>) or identity
/// (<c>ServiceBus:fullyQualifiedNamespace</c>, e.g. <c>mybus.servicebus.windows.net</c>, with DefaultAzureCredential
/// or the user-assigned managed identity <c>ServiceBus:clientId</c>). Checked when Messaging:Backend is 'servicebus'.
/// </summary>
public sealed class ServiceBusOptions
{
    public const string SectionName = "ServiceBus";

    public string? ConnectionString { get; set; }

    public string? FullyQualifiedNamespace { get; set; }

    public string? ClientId { get; set; }

    /// <summary>Retries of a failed operation (exponential back-off) by the Service Bus client.</summary>
    [Range(0, 20, ErrorMessage = "ServiceBus:MaxRetries must be between 0 and 20.")]
    public int MaxRetries { get; set; } = 5;

    /// <summary>Time allowed for one try of an operation before it counts as failed and is retried.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "ServiceBus:TryTimeout must be between 1 second and 1 hour.")]
    public TimeSpan TryTimeout { get; set; } = TimeSpan.FromSeconds(60);

    internal bool HasConnectionString => !string.IsNullOrWhiteSpace(ConnectionString);
}
