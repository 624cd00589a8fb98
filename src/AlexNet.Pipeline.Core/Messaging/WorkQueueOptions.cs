using System.ComponentModel.DataAnnotations;

namespace AlexNet.Pipeline.Messaging;

/// <summary>
/// Delivery settings for the queues the process manages itself (in-process and Storage Queues). Service Bus
/// keeps lock duration, max delivery count and duplicate detection on the queue entity (set them in infra);
/// of these settings it uses only <see cref="PrefetchCount"/>.
/// </summary>
public class WorkQueueOptions
{
    /// <summary>How long a received message stays hidden from other consumers before it is delivered again.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00", ErrorMessage = "Messaging:LockDuration must be between 1 second and 7 days.")]
    public TimeSpan LockDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Deliveries after which a message goes to the dead letters instead (Service Bus's default is 10, the Functions host's 5).</summary>
    [Range(1, 1000, ErrorMessage = "Messaging:MaxDeliveryCount must be between 1 and 1000.")]
    public int MaxDeliveryCount { get; set; } = 10;

    /// <summary>In-process queue only: a second message with a MessageId seen within this window is dropped.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00", ErrorMessage = "Messaging:DuplicateDetectionWindow must be between 0 and 7 days.")]
    public TimeSpan DuplicateDetectionWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Storage Queues have no long polling: an empty receive asks again after this pause until its wait is over.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00", ErrorMessage = "Messaging:PollInterval must be between 50 ms and 1 minute.")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Service Bus only: messages fetched ahead of the receive calls. Their locks start ticking on arrival, so keep
    /// it near one batch: a large prefetch with slow handlers means expired locks and redeliveries.
    /// </summary>
    [Range(0, 1000, ErrorMessage = "Messaging:PrefetchCount must be between 0 and 1000.")]
    public int PrefetchCount { get; set; } = 32;
}
