using System.ComponentModel.DataAnnotations;
using AlexNet.Model.Inference;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Hosting;
using AlexNet.Pipeline.Labeling;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Worker;

/// <summary>
/// Configuration section <c>Worker</c>: which queues the GPU worker serves, how much it takes at a time, where the
/// network runs and how often it looks for a newly promoted model. Checked when the host starts: a bad value stops
/// it at once with a message that names the setting.
/// </summary>
public sealed class WorkerOptions
{
    public const string SectionName = "Worker";

    /// <summary>Images per forward pass: 256-1024 on a GPU, 32-64 on a CPU.</summary>
    [Range(1, 8192, ErrorMessage = "Worker:BatchSize must be between 1 and 8192.")]
    public int BatchSize { get; set; } = 256;

    /// <summary>Messages taken per receive call; each is a chunk of up to a few hundred images.</summary>
    [Range(1, 256, ErrorMessage = "Worker:MaxMessagesPerReceive must be between 1 and 256.")]
    public int MaxMessagesPerReceive { get; set; } = 8;

    /// <summary>How long one receive call waits for a first message.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00", ErrorMessage = "Worker:ReceiveWait must be between 100 ms and 5 minutes.")]
    public TimeSpan ReceiveWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the lock of every message in flight is renewed; well under the queue's lock duration.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00", ErrorMessage = "Worker:LockRenewInterval must be between 100 ms and 10 minutes.")]
    public TimeSpan LockRenewInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary><c>auto</c>, <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c> or two devices such as <c>cuda:0,cuda:1</c>.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Worker:Device must be set: auto, cpu, cuda, cuda:N or 'cuda:0,cuda:1'.")]
    public string Device { get; set; } = DevicePlacement.Auto;

    /// <summary><c>auto</c>, <c>Grouped</c> or <c>TwoTower</c>.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Worker:Layout must be set: auto, Grouped or TwoTower.")]
    public string Layout { get; set; } = DevicePlacement.Auto;

    /// <summary>How often <c>models/current.json</c> is read; a new version is swapped in between batches.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00", ErrorMessage = "Worker:ModelRefreshInterval must be between 100 ms and 1 day.")]
    public TimeSpan ModelRefreshInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Crop mode of requests that do not name one: <c>center</c> or <c>ten-crop</c> (<see cref="CropModes"/>).</summary>
    public CropMode CropMode { get; set; } = CropMode.Center;

    /// <summary>Concurrent downloads and decodes of one run.</summary>
    [Range(1, 256, ErrorMessage = "Worker:DecodeParallelism must be between 1 and 256.")]
    public int DecodeParallelism { get; set; } = Math.Max(2, Environment.ProcessorCount);

    /// <summary>
    /// Tag each labeled upload with its top-1 label and model version (blob index tags), so downstream apps can find
    /// all images of a class with one tag query. On in the Azure deployment (infra sets it); off by default because
    /// Azurite's tag queries slow down and miss results once its account holds many thousands of tagged blobs.
    /// </summary>
    public bool TagSourceImages { get; set; }

    /// <summary>
    /// Concurrent record checks and image reads of one run. 64, not 16: against a storage account 50 ms away each
    /// image waits on two or three reads in a row, and 16 at a time left the worker at 0.76 of its speed without the
    /// latency, 64 at 0.98 (docs/scale.md, "Latency"); the bytes held stay within <see cref="MaxBytesInFlight"/>.
    /// </summary>
    [Range(1, 256, ErrorMessage = "Worker:ReadParallelism must be between 1 and 256.")]
    public int ReadParallelism { get; set; } = 64;

    /// <summary>Bytes of downloaded, not yet decoded images a run holds at once; one image larger than this goes alone.</summary>
    [Range(1L, 64L * 1024 * 1024 * 1024, ErrorMessage = "Worker:MaxBytesInFlight must be between 1 byte and 64 GiB.")]
    public long MaxBytesInFlight { get; set; } = LabelingOptions.DefaultMaxBytesInFlight;

    /// <summary>Concurrent record writes (and message settlements) of one run; 64 for the same reason as <see cref="ReadParallelism"/>.</summary>
    [Range(1, 256, ErrorMessage = "Worker:WriteParallelism must be between 1 and 256.")]
    public int WriteParallelism { get; set; } = 64;

    /// <summary>Serve the train job queue too (one worker of the fleet is enough).</summary>
    public bool TrainingEnabled { get; set; } = true;

    /// <summary>Folder for train jobs' data and checkpoints; the system temp folder when empty.</summary>
    public string? WorkFolder { get; set; }

    /// <summary>Name written into chunk markers; the machine name (the container's host name) when empty.</summary>
    public string? Name { get; set; }

    public string WorkerName => string.IsNullOrWhiteSpace(Name) ? Environment.MachineName : Name;

    /// <summary>The engine settings of one run in <paramref name="cropMode"/>.</summary>
    public LabelingOptions ToLabelingOptions(CropMode cropMode) => new()
    {
        BatchSize = BatchSize,
        DecodeParallelism = DecodeParallelism,
        ReadParallelism = ReadParallelism,
        TagSourceImages = TagSourceImages,
        WriteParallelism = WriteParallelism,
        MaxBytesInFlight = MaxBytesInFlight,
        CropMode = cropMode,
    };
}

/// <summary>
/// What data annotations cannot say: the device and layout strings parse, and on the queues whose lock this
/// process manages, the renewal comes before the lock runs out.
/// </summary>
internal sealed class WorkerOptionsValidator(IOptions<MessagingOptions> messaging) : IValidateOptions<WorkerOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkerOptions options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.Device) && DevicePlacement.ParseDevices(options.Device) is { Error: { } deviceError })
            failures.Add(deviceError);
        if (!string.IsNullOrWhiteSpace(options.Layout) && DevicePlacement.ParseLayout(options.Layout) is { Error: { } layoutError })
            failures.Add(layoutError);
        if (!Enum.IsDefined(options.CropMode))
            failures.Add($"Worker:CropMode must be one of: {string.Join(", ", CropModes.Names)}.");

        // Service Bus keeps the lock duration on the queue entity (infra sets 5 minutes), out of sight here.
        MessagingOptions queues = messaging.Value;
        if (queues.Backend != MessagingBackend.ServiceBus && options.LockRenewInterval >= queues.LockDuration)
        {
            failures.Add($"Worker:LockRenewInterval ({options.LockRenewInterval}) must be shorter than Messaging:LockDuration ({queues.LockDuration}), " +
                "or locks expire between renewals.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
