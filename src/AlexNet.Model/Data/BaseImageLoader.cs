using AlexNet.Imaging;

namespace AlexNet.Model.Data;

/// <summary>An image of a source that could not be used, and why.</summary>
public sealed record RejectedImage(ImageEntry Entry, string Reason);

/// <summary>
/// Reads entries from a source and decodes them into base images through AlexNet.Imaging's decoder (limits
/// checked before any pixel allocation). A bad image is a rejection, never an exception.
/// </summary>
public sealed class BaseImageLoader(IImageSource source, int baseSize, ImageDecoder? decoder = null)
{
    private readonly ImageDecoder decoder = decoder ?? new ImageDecoder();

    public IImageSource Source { get; } = source ?? throw new ArgumentNullException(nameof(source));

    public int BaseSize { get; } = baseSize;

    public async Task<(BaseImage? Image, RejectedImage? Rejection)> LoadAsync(ImageEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        byte[] bytes;
        try
        {
            bytes = await Source.ReadAsync(entry, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException error)
        {
            return (null, new RejectedImage(entry, $"unreadable: {error.Message}"));
        }
        ImageDecodeResult decoded = decoder.Decode(bytes, BaseSize);
        return decoded.IsDecoded
            ? (BaseImage.From(decoded.Image), null)
            : (null, new RejectedImage(entry, decoded.Rejection.ToString()));
    }

    /// <summary>Loads many entries with bounded parallelism; results line up with <paramref name="entries"/>.</summary>
    public async Task<(BaseImage?[] Images, IReadOnlyList<RejectedImage> Rejections)> LoadManyAsync(
        IReadOnlyList<ImageEntry> entries, int parallelism, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var images = new BaseImage?[entries.Count];
        var rejections = new RejectedImage?[entries.Count];
        await Parallel.ForAsync(0, entries.Count,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism), CancellationToken = cancellationToken },
            async (i, token) => (images[i], rejections[i]) = await LoadAsync(entries[i], token).ConfigureAwait(false)).ConfigureAwait(false);
        return (images, rejections.OfType<RejectedImage>().ToArray());
    }
}
