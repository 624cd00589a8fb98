using System.ComponentModel.DataAnnotations;
using AlexNet.Model.Inference;

namespace AlexNet.Pipeline.Labeling;

/// <summary>How a labeling run uses the machine.</summary>
public sealed class LabelingOptions
{
    /// <summary>Images per forward pass. Large on a GPU (256-1024); 32-64 is enough to keep a CPU busy.</summary>
    [Range(1, 8192)]
    public int BatchSize { get; set; } = 64;

    /// <summary>Concurrent decodes: CPU work, so about the core count.</summary>
    [Range(1, 256)]
    public int DecodeParallelism { get; set; } = Math.Max(2, Environment.ProcessorCount);

    /// <summary>Concurrent reads (record look-ups and image downloads): waiting on storage, so many more than cores.</summary>
    [Range(1, 256)]
    public int ReadParallelism { get; set; } = 16;

    /// <summary>
    /// Bytes of downloaded, not yet decoded images held at once (<see cref="ByteBudget"/>): with <see cref="ReadParallelism"/>
    /// downloads and up to two forward batches queued for decoding, a count of images alone does not bound memory.
    /// </summary>
    [Range(1L, long.MaxValue)]
    public long MaxBytesInFlight { get; set; } = DefaultMaxBytesInFlight;

    public const long DefaultMaxBytesInFlight = 256L * 1024 * 1024;

    /// <summary>Concurrent record writes.</summary>
    [Range(1, 256)]
    public int WriteParallelism { get; set; } = 8;

    public CropMode CropMode { get; set; } = CropMode.Center;

    /// <summary>Images whose top-1 probability is below this go to <c>review.jsonl</c>.</summary>
    [Range(0.0, 1.0)]
    public double MinConfidence { get; set; } = 0.5;

    /// <summary>How long the forward pass waits for a fuller batch once it has at least one image.</summary>
    public TimeSpan BatchLinger { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Tag each labeled source blob with its top-1 label and model version (blob index tags).</summary>
    public bool TagSourceImages { get; set; }
}
