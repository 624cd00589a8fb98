using System.Diagnostics;
using AlexNet.Testing;
using AlexNet.Testing.Encoders;
using SkiaSharp;

namespace AlexNet.Imaging.Tests;

public class ProbeTests
{
    private readonly ImageDecoder decoder = new();

    public static TheoryData<ImageFormat> AllFormats => [.. SampleImages.Formats];

    [Theory]
    [MemberData(nameof(AllFormats))]
    public void ProbeReadsFormatAndDimensionsOfEveryFormat(ImageFormat format)
    {
        var bytes = SampleImages.Solid(format, 123, 45, SKColors.Coral);

        var probe = decoder.Probe(bytes);

        Assert.True(probe.IsAccepted, probe.Rejection?.ToString());
        Assert.Equal(new ImageHeader(format, 123, 45, 1), probe.Header);
    }

    [Fact]
    public void ProbeReadsDeclaredDimensionsWithoutDecoding()
    {
        // Declares 10000x8000 (inside the limits) over the scan data of a 64x48 image: decoding would need a
        // 320 MB buffer, reading the header needs nothing.
        var bytes = JpegEditor.WithDeclaredSize(SampleImages.PhotoJpeg(64, 48, seed: 2), 10000, 8000);
        decoder.Probe(bytes);

        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var probe = decoder.Probe(bytes);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

        // The fastest of a few runs: the machine is shared, and a preempted thread is not a slow probe.
        var elapsed = Enumerable.Range(0, 5).Min(_ =>
        {
            var started = Stopwatch.GetTimestamp();
            decoder.Probe(bytes);
            return Stopwatch.GetElapsedTime(started);
        });

        Assert.Equal(new ImageHeader(ImageFormat.Jpeg, 10000, 8000, 1), probe.Header);
        Assert.True(allocated < 4096, $"probe allocated {allocated} bytes");
        Assert.True(elapsed < TimeSpan.FromMilliseconds(10), $"probe took {elapsed.TotalMilliseconds:0.00} ms");
    }

    [Fact]
    public void ProbeCountsGifFramesWithoutDecodingThem()
    {
        var probe = decoder.Probe(BadImageCorpus.ManyFrameGif(37));

        Assert.True(probe.IsAccepted, probe.Rejection?.ToString());
        Assert.Equal(new ImageHeader(ImageFormat.Gif, 64, 64, 37), probe.Header);
    }

    [Fact]
    public void ProbeReadsTheApngFrameCount()
    {
        var probe = decoder.Probe(BadImageCorpus.ApngDeclaring(12));

        Assert.Equal(12, probe.Header?.FrameCount);
    }

    [Fact]
    public void ProbeAcceptsAProgressiveJpegWithFewScans()
    {
        var probe = decoder.Probe(BadImageCorpus.ProgressiveScanBomb(10));

        Assert.Equal(new ImageHeader(ImageFormat.Jpeg, 16, 16, 1), probe.Header);
    }

    [Fact]
    public void ProbeReadsTheWebPCanvasSize()
    {
        var probe = decoder.Probe(BadImageCorpus.WebPDeclaring(4000, 3000));

        Assert.Equal(new ImageHeader(ImageFormat.WebP, 4000, 3000, 1), probe.Header);
    }

    [Fact]
    public void ProbeReadsTopDownBmpHeightAsPositive()
    {
        var bytes = BadImageCorpus.BmpDeclaring(30, -20);

        Assert.Equal(new ImageHeader(ImageFormat.Bmp, 30, 20, 1), decoder.Probe(bytes).Header);
    }

    [Fact]
    public void RejectionForLimitsStillCarriesTheHeader()
    {
        var probe = decoder.Probe(PngWriter.WithDeclaredSize(20000, 20000));

        Assert.Equal(RejectionCode.TooManyPixels, probe.Rejection?.Code);
        Assert.Equal((20000, 20000), (probe.Header?.Width, probe.Header?.Height));
    }
}
