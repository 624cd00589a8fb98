namespace AlexNet.Imaging;

/// <summary>Why an input was refused. Stable names: they are written to rejection records.</summary>
public enum RejectionCode
{
    /// <summary>Zero bytes.</summary>
    Empty,

    /// <summary>The encoded file is larger than <see cref="ImageLimits.MaxBytes"/>.</summary>
    TooManyBytes,

    /// <summary>The content is not JPEG, PNG, GIF, BMP or WebP (whatever its name says).</summary>
    UnsupportedFormat,

    /// <summary>The file ends before its header or its pixel data does.</summary>
    Truncated,

    /// <summary>The header or the pixel data is malformed.</summary>
    Corrupt,

    /// <summary>Width or height over <see cref="ImageLimits.MaxWidth"/> / <see cref="ImageLimits.MaxHeight"/>.</summary>
    DimensionsTooLarge,

    /// <summary>Width x height over <see cref="ImageLimits.MaxPixels"/>.</summary>
    TooManyPixels,

    /// <summary>More frames (or progressive JPEG scans) than <see cref="ImageLimits.MaxFrames"/>.</summary>
    TooManyFrames,

    /// <summary>Width or height under <see cref="ImageLimits.MinWidth"/> / <see cref="ImageLimits.MinHeight"/>.</summary>
    TooSmall,

    /// <summary>The header passed every check but the decoder could not produce pixels.</summary>
    DecodeFailed,
}
