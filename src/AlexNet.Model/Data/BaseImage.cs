using AlexNet.Imaging;

namespace AlexNet.Model.Data;

/// <summary>
/// A decoded square base image kept compactly: one channel when every pixel is gray (grayscale data sets take a
/// third of the memory in the cache), else interleaved RGB. Reads always give RGB.
/// </summary>
public sealed class BaseImage
{
    private readonly byte[] pixels;

    private BaseImage(int side, bool gray, byte[] pixels)
    {
        Side = side;
        IsGray = gray;
        this.pixels = pixels;
    }

    public int Side { get; }

    public bool IsGray { get; }

    /// <summary>Bytes held in memory.</summary>
    public int Bytes => pixels.Length;

    public static BaseImage From(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Width != image.Height)
            throw new ArgumentException($"a base image is square, this one is {image.Width}x{image.Height}", nameof(image));
        byte[] rgb = image.Pixels;
        for (int i = 0; i < rgb.Length; i += 3)
        {
            if (rgb[i] != rgb[i + 1] || rgb[i] != rgb[i + 2])
                return new BaseImage(image.Width, false, rgb);
        }
        var gray = new byte[rgb.Length / 3];
        for (int i = 0; i < gray.Length; i++)
            gray[i] = rgb[3 * i];
        return new BaseImage(image.Width, true, gray);
    }

    /// <summary>The whole image as interleaved RGB into <paramref name="destination"/> (side * side * 3 bytes).</summary>
    public void CopyRgb(Span<byte> destination) => CopyCrop(0, 0, Side, flip: false, destination);

    /// <summary>
    /// The <paramref name="size"/>-square crop at (<paramref name="top"/>, <paramref name="left"/>), mirrored left to
    /// right when <paramref name="flip"/>, as interleaved RGB.
    /// </summary>
    public void CopyCrop(int top, int left, int size, bool flip, Span<byte> destination)
    {
        if (top < 0 || left < 0 || top + size > Side || left + size > Side)
            throw new ArgumentOutOfRangeException(nameof(size), $"crop {size} at ({top}, {left}) leaves the {Side}x{Side} image");
        if (destination.Length < size * size * 3)
            throw new ArgumentException("destination is too small", nameof(destination));
        int channels = IsGray ? 1 : 3;
        int o = 0;
        for (int y = 0; y < size; y++)
        {
            int row = (top + y) * Side;
            for (int x = 0; x < size; x++, o += 3)
            {
                int i = (row + left + (flip ? size - 1 - x : x)) * channels;
                if (IsGray)
                {
                    destination[o] = destination[o + 1] = destination[o + 2] = pixels[i];
                }
                else
                {
                    destination[o] = pixels[i];
                    destination[o + 1] = pixels[i + 1];
                    destination[o + 2] = pixels[i + 2];
                }
            }
        }
    }

    /// <summary>Adds this image's per-channel sums and channel cross-products (for mean and covariance).</summary>
    internal void Accumulate(Span<double> sums, Span<double> products)
    {
        if (IsGray)
        {
            long sum = 0, square = 0;
            foreach (byte v in pixels)
            {
                sum += v;
                square += v * v;
            }
            for (int c = 0; c < 3; c++)
                sums[c] += sum;
            for (int k = 0; k < 9; k++)
                products[k] += square;
            return;
        }
        Span<long> s = stackalloc long[3];
        Span<long> p = stackalloc long[9];
        for (int i = 0; i < pixels.Length; i += 3)
        {
            int r = pixels[i], g = pixels[i + 1], b = pixels[i + 2];
            s[0] += r; s[1] += g; s[2] += b;
            p[0] += r * r; p[1] += r * g; p[2] += r * b;
            p[4] += g * g; p[5] += g * b; p[8] += b * b;
        }
        p[3] = p[1]; p[6] = p[2]; p[7] = p[5];
        for (int c = 0; c < 3; c++)
            sums[c] += s[c];
        for (int k = 0; k < 9; k++)
            products[k] += p[k];
    }
}
