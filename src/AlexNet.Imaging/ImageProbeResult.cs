using System.Diagnostics.CodeAnalysis;

namespace AlexNet.Imaging;

/// <summary>The outcome of reading a header: the header when every limit passed, else the rejection.</summary>
public sealed class ImageProbeResult
{
    private ImageProbeResult(ImageHeader? header, ImageRejection? rejection)
    {
        Header = header;
        Rejection = rejection;
    }

    /// <summary>The header; also set on a rejection for limits, where the header itself was readable.</summary>
    public ImageHeader? Header { get; }

    public ImageRejection? Rejection { get; }

    [MemberNotNullWhen(true, nameof(Header))]
    [MemberNotNullWhen(false, nameof(Rejection))]
    public bool IsAccepted => Rejection is null;

    public static ImageProbeResult Accepted(ImageHeader header) => new(header, null);

    public static ImageProbeResult Rejected(RejectionCode code, string reason, ImageHeader? header = null) =>
        new(header, new ImageRejection(code, reason));
}
