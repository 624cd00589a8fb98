using System.ComponentModel.DataAnnotations;

namespace AlexNet.Pipeline.Durable;

/// <summary>
/// Configuration section <c>Durable</c>: the local durable engine, the Durable Task Framework's Azure Storage
/// provider (the backend Durable Functions uses by default) on a storage account, Azurite locally.
/// </summary>
public sealed class LocalDurableOptions
{
    public const string SectionName = "Durable";

    /// <summary>The account that holds the task hub's queues, tables and blobs; empty falls back to <c>Storage:ConnectionString</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Names the task hub's queues, tables and containers: 3-45 letters and digits, a letter first.</summary>
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,44}$", ErrorMessage = "Durable:TaskHubName must be 3-45 letters and digits, starting with a letter.")]
    public string TaskHubName { get; set; } = "alexnetlocal";

    /// <summary>Control queues (orchestration partitions); fixed once the task hub exists.</summary>
    [Range(1, 16, ErrorMessage = "Durable:PartitionCount must be between 1 and 16.")]
    public int PartitionCount { get; set; } = 4;

    /// <summary>The longest pause between polls of an idle queue; short locally, where polls cost nothing.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00", ErrorMessage = "Durable:MaxQueuePollingInterval must be between 100 ms and 5 minutes.")]
    public TimeSpan MaxQueuePollingInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often a starting engine tries to take the partitions a stopped one released.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00", ErrorMessage = "Durable:LeaseAcquireInterval must be between 100 ms and 5 minutes.")]
    public TimeSpan LeaseAcquireInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a message an engine has taken stays hidden from the others. An engine that stops (gracefully or not)
    /// leaves the messages it had fetched but not finished hidden this long before a new engine gets them; an engine
    /// that keeps working renews it. Durable Functions uses 5 minutes; locally a restart should not wait that long.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "Durable:MessageVisibilityTimeout must be between 1 second and 10 minutes.")]
    public TimeSpan MessageVisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);

    [Range(1, 1000, ErrorMessage = "Durable:MaxConcurrentActivities must be between 1 and 1000.")]
    public int MaxConcurrentActivities { get; set; } = 10;

    [Range(1, 1000, ErrorMessage = "Durable:MaxConcurrentOrchestrations must be between 1 and 1000.")]
    public int MaxConcurrentOrchestrations { get; set; } = 10;

    /// <summary>Identity of this engine in partition leases; empty uses the machine name.</summary>
    public string? WorkerId { get; set; }
}
