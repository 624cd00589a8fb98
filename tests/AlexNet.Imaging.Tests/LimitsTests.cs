using System.ComponentModel.DataAnnotations;
using AlexNet.Testing;
using SkiaSharp;

namespace AlexNet.Imaging.Tests;

public class LimitsTests
{
    [Fact]
    public void DefaultsMatchTheDocumentedValues()
    {
        var limits = new ImageLimits();

        Assert.Equal(64L * 1024 * 1024, limits.MaxBytes);
        Assert.Equal((16384, 16384), (limits.MaxWidth, limits.MaxHeight));
        Assert.Equal(80_000_000, limits.MaxPixels);
        Assert.Equal(1000, limits.MaxFrames);
        Assert.Equal((1, 1), (limits.MinWidth, limits.MinHeight));
    }

    [Fact]
    public void NonPositiveLimitsFailValidation()
    {
        var results = new List<ValidationResult>();

        var good = new ImageLimits();
        Assert.True(Validator.TryValidateObject(good, new ValidationContext(good), results, validateAllProperties: true));
        var bad = new ImageLimits { MaxWidth = 0, MaxFrames = -1 };
        Assert.False(Validator.TryValidateObject(bad, new ValidationContext(bad), results, validateAllProperties: true));
        Assert.Equal(["MaxWidth", "MaxFrames"], results.SelectMany(r => r.MemberNames));
    }

    [Fact]
    public void FilesOverMaxBytesAreRefusedBeforeTheirContentIsRead()
    {
        var decoder = new ImageDecoder(new ImageLimits { MaxBytes = 1000 });
        var bytes = SampleImages.PhotoJpeg(200, 100, seed: 4);

        var result = decoder.Decode(bytes);

        Assert.Equal(RejectionCode.TooManyBytes, result.Rejection?.Code);
        Assert.Null(result.Header);
    }

    [Fact]
    public void ImagesUnderTheMinimumSizeAreTooSmall()
    {
        var decoder = new ImageDecoder(new ImageLimits { MinWidth = 32, MinHeight = 32 });

        var result = decoder.Decode(SampleImages.Solid(ImageFormat.Png, 16, 40, SKColors.Gray));

        Assert.Equal(RejectionCode.TooSmall, result.Rejection?.Code);
        Assert.Contains("16x40", result.Rejection!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void WidthOverTheLimitIsTooLargeEvenWithFewPixels()
    {
        var decoder = new ImageDecoder(new ImageLimits { MaxWidth = 100 });

        var result = decoder.Decode(SampleImages.Solid(ImageFormat.Gif, 101, 2, SKColors.Gray));

        Assert.Equal(RejectionCode.DimensionsTooLarge, result.Rejection?.Code);
    }

    [Fact]
    public void FrameLimitApplies()
    {
        var decoder = new ImageDecoder(new ImageLimits { MaxFrames = 3 });

        Assert.True(decoder.Decode(BadImageCorpus.ManyFrameGif(3)).IsDecoded);
        Assert.Equal(RejectionCode.TooManyFrames, decoder.Decode(BadImageCorpus.ManyFrameGif(4)).Rejection?.Code);
    }

    [Fact]
    public void BaseSizeOutsideItsRangeIsAProgrammingError()
    {
        var decoder = new ImageDecoder();

        Assert.Throws<ArgumentOutOfRangeException>(() => decoder.Decode([1, 2, 3], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => decoder.Decode([1, 2, 3], ImageDecoder.MaxBaseSize + 1));
    }
}
