using AlexNet.Pipeline.Ingest;
using Azure.Storage.Blobs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Functions.Ingest;

/// <summary>
/// The upload triggers, thin over <see cref="UploadIngestor"/> and <see cref="IngestSweeper"/>. Uploads arrive by one
/// of two Event Grid routes (docs/deploy.md, "Upload events"): the blob trigger's Event Grid source, or the
/// <c>upload-events</c> queue Event Grid writes to. The timer sweep catches whatever both miss.
/// </summary>
public sealed partial class UploadFunctions(UploadIngestor ingestor, IngestSweeper sweeper, ILogger<UploadFunctions> logger)
{
    /// <summary>The queue the deployment's Event Grid subscription writes <c>BlobCreated</c> events to.</summary>
    public const string UploadEventsQueue = "upload-events";

    /// <summary>The connection (settings <c>Storage__*</c>) of the pipeline's storage account.</summary>
    public const string StorageConnection = "Storage";

    /// <summary>Bound as a <see cref="BlobClient"/>, so the trigger reads nothing: the ingestor reads only the header.</summary>
    [Function(nameof(OnImageUploaded))]
    public async Task OnImageUploaded(
        [BlobTrigger("incoming/{name}", Source = BlobTriggerSource.EventGrid, Connection = StorageConnection)] BlobClient blob,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blob);
        await ingestor.IngestAsync(blob.BlobContainerName, blob.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Event Grid's <c>BlobCreated</c> events for the upload container, as queue messages. A message that is not such
    /// an event would fail on every retry, so it is logged and dropped rather than sent to the poison queue.
    /// </summary>
    [Function(nameof(OnUploadEvent))]
    public async Task OnUploadEvent([QueueTrigger(UploadEventsQueue, Connection = StorageConnection)] string message, CancellationToken cancellationToken)
    {
        IReadOnlyList<CreatedBlob> blobs;
        try
        {
            blobs = UploadEvents.Parse(message);
        }
        catch (FormatException e)
        {
            LogUnreadableEvent(logger, e.Message);
            return;
        }

        foreach (CreatedBlob blob in blobs)
        {
            if (blob.Container != ingestor.Container)
            {
                LogOtherContainer(logger, blob.Container, blob.Name);
                continue;
            }

            await ingestor.IngestAsync(blob.Container, blob.Name, cancellationToken).ConfigureAwait(false);
        }
    }

    [Function(nameof(SweepIncoming))]
    public Task SweepIncoming([TimerTrigger("%IngestSweepSchedule%")] TimerInfo timer, CancellationToken cancellationToken) =>
        sweeper.SweepAsync(cancellationToken);

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Dropped an upload event that could not be read: {Reason}")]
    private static partial void LogUnreadableEvent(ILogger logger, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Ignored an upload event for {Container}/{Name}: not the upload container")]
    private static partial void LogOtherContainer(ILogger logger, string container, string name);
}
