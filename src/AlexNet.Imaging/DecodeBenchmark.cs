namespace AlexNet.Imaging;

/// <summary>
/// Measures decode + resize + crop throughput on one thread, with the files already in memory, so the figure
/// compares directly with <c>djpeg</c> on the same files (QUALITY.md: ours / djpeg >= 0.5 per core).
/// </summary>
public sealed class DecodeBenchmark(ImageDecoder decoder, TimeProvider? timeProvider = null)
{
    private readonly TimeProvider time = timeProvider ?? TimeProvider.System;

    public DecodeBenchmark()
        : this(new ImageDecoder())
    {
    }

    public DecodeBenchmarkResult Run(IEnumerable<string> files, int baseSize = ImageDecoder.DefaultBaseSize, int iterations = 3)
    {
        ArgumentNullException.ThrowIfNull(files);
        return Run(files.Select(File.ReadAllBytes).ToList(), baseSize, iterations);
    }

    public DecodeBenchmarkResult Run(IReadOnlyList<byte[]> images, int baseSize = ImageDecoder.DefaultBaseSize, int iterations = 3)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(iterations);

        // One untimed pass: JIT, Skia's lazy initialisation, and pooled buffers at their working sizes.
        long sourcePixels = 0;
        var rejected = 0;
        foreach (var image in images)
        {
            var result = decoder.Decode(image, baseSize);
            if (result.IsDecoded)
            {
                sourcePixels += result.Header!.Pixels;
            }
            else
            {
                rejected++;
            }
        }

        var start = time.GetTimestamp();
        for (var i = 0; i < iterations; i++)
        {
            foreach (var image in images)
            {
                decoder.Decode(image, baseSize);
            }
        }

        var elapsed = time.GetElapsedTime(start);
        var decodes = images.Count * iterations;
        var seconds = Math.Max(elapsed.TotalSeconds, 1e-9);
        return new DecodeBenchmarkResult(
            Files: images.Count,
            Rejected: rejected,
            Decodes: decodes,
            Elapsed: elapsed,
            ImagesPerSecond: decodes / seconds,
            SourceMegapixelsPerSecond: sourcePixels * iterations / 1e6 / seconds);
    }
}

/// <summary>One benchmark run; <see cref="Rejected"/> counts files that did not decode (they still count as work).</summary>
public sealed record DecodeBenchmarkResult(
    int Files,
    int Rejected,
    int Decodes,
    TimeSpan Elapsed,
    double ImagesPerSecond,
    double SourceMegapixelsPerSecond);
