namespace AlexNet.Imaging;

/// <summary>
/// What an image's header declares, read without decoding pixels. Width and height are as stored, before any
/// EXIF orientation is applied. <see cref="FrameCount"/> is the number of frames of a GIF, animated WebP or
/// APNG, and 1 for everything else.
/// </summary>
public sealed record ImageHeader(ImageFormat Format, int Width, int Height, int FrameCount)
{
    public long Pixels => (long)Width * Height;
}
