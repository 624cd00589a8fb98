using System.Diagnostics.CodeAnalysis;

namespace AlexNet.Imaging;

/// <summary>The outcome of a decode: a base image, or a rejection with its reason. Never both.</summary>
public sealed class ImageDecodeResult
{
    private ImageDecodeResult(RgbImage? image, ImageRejection? rejection, ImageHeader? header)
    {
        Image = image;
        Rejection = rejection;
        Header = header;
    }

    public RgbImage? Image { get; }

    public ImageRejection? Rejection { get; }

    /// <summary>The source's header, where it could be read (also on most rejections).</summary>
    public ImageHeader? Header { get; }

    [MemberNotNullWhen(true, nameof(Image))]
    [MemberNotNullWhen(false, nameof(Rejection))]
    public bool IsDecoded => Image is not null;

    public static ImageDecodeResult Decoded(RgbImage image, ImageHeader header) => new(image, null, header);

    public static ImageDecodeResult Rejected(ImageRejection rejection, ImageHeader? header) =>
        new(null, rejection, header);

    public override string ToString() =>
        IsDecoded ? $"{Image.Width}x{Image.Height} RGB from {Header}" : Rejection.ToString();
}
