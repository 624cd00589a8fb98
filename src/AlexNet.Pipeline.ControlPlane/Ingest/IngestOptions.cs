using System.ComponentModel.DataAnnotations;
using AlexNet.Pipeline.Contracts;

namespace AlexNet.Pipeline.Ingest;

/// <summary>Configuration section <c>Ingest</c>: how uploads are checked and how far one sweep goes.</summary>
public sealed class IngestOptions
{
    public const string SectionName = "Ingest";

    /// <summary>The upload container.</summary>
    [Required]
    public string Container { get; set; } = PipelineNames.IncomingContainer;

    /// <summary>
    /// Bytes read from the start of an upload to check it. Every format's dimensions sit in the first few hundred
    /// bytes, unless large metadata (EXIF thumbnails, ICC profiles) comes first; a blob no larger than this is
    /// checked whole, end markers included.
    /// </summary>
    [Range(1024, 16 * 1024 * 1024, ErrorMessage = "Ingest:HeadBytes must be between 1 KiB and 16 MiB.")]
    public int HeadBytes { get; set; } = 64 * 1024;

    /// <summary>Most uploads one sweep sends or rejects; the next sweep takes the rest.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Ingest:SweepMaxIngests must be between 1 and 1,000,000.")]
    public int SweepMaxIngests { get; set; } = 1000;

    /// <summary>Uploads a sweep checks at once.</summary>
    [Range(1, 64, ErrorMessage = "Ingest:SweepParallelism must be between 1 and 64.")]
    public int SweepParallelism { get; set; } = 4;

    /// <summary>
    /// Most images in one label message from a sweep: the uploads of one batch that pass their checks in one sweep go
    /// out together, so the queue's send, receive and settle are shared (a Storage Queue bills and serves each one).
    /// Bounded too by <see cref="LabelRequest.MaxInlineBodyBytes"/> of message body. An upload event still sends one image.
    /// </summary>
    [Range(1, 256, ErrorMessage = "Ingest:SweepImagesPerMessage must be between 1 and 256.")]
    public int SweepImagesPerMessage { get; set; } = 32;

    /// <summary>
    /// For a label or rejected record without the upload ETag in its metadata (<c>imageetag</c>: a record replaced in
    /// place, or written by an earlier build): written at least this long after its upload last changed, it is trusted
    /// by the sweep without being read, since whoever wrote it read the upload after that change, as long as one
    /// labeling takes less than this from read to write. Such records written sooner are read and their ETag compared.
    /// A record with the metadata is judged by it and never read.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00", ErrorMessage = "Ingest:RecordSettleTime must be between 0 and 7 days.")]
    public TimeSpan RecordSettleTime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// How often a sweep lists the whole upload container (a reconciliation), checking every upload above its folder's
    /// watermark. Between reconciliations a sweep lists only the container's first level, the folders it has not seen
    /// before and the folders that changed within <see cref="ActiveFolderWindow"/>: its cost follows what is new.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00", ErrorMessage = "Ingest:ReconcileInterval must be between 0 and 7 days.")]
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long a folder (batch) stays listed on every sweep after the last change a sweep saw in it (a new or replaced
    /// upload, a record that appeared). Uploads into a folder quiet for longer are found by the next reconciliation.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00", ErrorMessage = "Ingest:ActiveFolderWindow must be between 0 and 7 days.")]
    public TimeSpan ActiveFolderWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// How far a folder's watermark stays behind the start of the listing that set it. Uploads last modified at or before
    /// the watermark are known to have records and are not looked at again; the margin covers a blob committed while a
    /// listing was under way and the skew between this host's clock and the storage service's.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00", ErrorMessage = "Ingest:WatermarkMargin must be between 0 and 1 day.")]
    public TimeSpan WatermarkMargin { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a sweep leaves an upload it queued alone while it still has no record (its message waits in the queue,
    /// or the worker is on it) before queuing it again. Service Bus drops such a repeat by its message id; a Storage
    /// Queue (the local pipeline) does not, and the worker would receive the upload twice. A message that was lost
    /// (dead-lettered, or never labeled within this time) is sent again after it; remembered in memory only.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00", ErrorMessage = "Ingest:RequeueAfter must be between 0 and 1 day.")]
    public TimeSpan RequeueAfter { get; set; } = TimeSpan.FromMinutes(10);
}
