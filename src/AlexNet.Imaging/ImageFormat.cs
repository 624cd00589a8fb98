namespace AlexNet.Imaging;

/// <summary>The encoded formats the pipeline accepts, identified by content, never by file name.</summary>
public enum ImageFormat
{
    Jpeg,
    Png,
    Gif,
    Bmp,
    WebP,
}
