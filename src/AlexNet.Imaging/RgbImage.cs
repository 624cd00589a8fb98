namespace AlexNet.Imaging;

/// <summary>
/// 8-bit RGB pixels, interleaved (R, G, B), row-major, no padding: pixel (x, y) starts at (y * Width + x) * 3.
/// </summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.LongLength != (long)width * height * 3)
        {
            throw new ArgumentException(
                $"Expected {(long)width * height * 3} bytes for {width}x{height} RGB, got {pixels.LongLength}.",
                nameof(pixels));
        }

        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    public byte[] Pixels { get; }

    public (byte R, byte G, byte B) GetPixel(int x, int y)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(x);
        ArgumentOutOfRangeException.ThrowIfNegative(y);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(x, Width);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(y, Height);
        var i = ((y * Width) + x) * 3;
        return (Pixels[i], Pixels[i + 1], Pixels[i + 2]);
    }
}
