using AlexNet.Model.Data;
using SkiaSharp;

namespace AlexNet.Model.Tests.Data;

/// <summary>Writes small generated class folders of PNGs: each class a bright block at its own place on noise.</summary>
internal static class TinyImages
{
    public static string Create(string root, int classes = 10, int perClass = 20, int side = 32, int seed = 7, bool gray = false)
    {
        var random = new Random(seed);
        for (int c = 0; c < classes; c++)
        {
            string folder = Path.Combine(root, $"class-{c:D2}");
            Directory.CreateDirectory(folder);
            for (int i = 0; i < perClass; i++)
                File.WriteAllBytes(Path.Combine(folder, $"{i:D3}.png"), Png(Draw(random, c, classes, side, gray), side));
        }
        return root;
    }

    public static byte[] Draw(Random random, int label, int classes, int side, bool gray)
    {
        var rgb = new byte[side * side * 3];
        int block = side / 4;
        int cx = label * (side - block) / Math.Max(1, classes - 1);
        for (int y = 0; y < side; y++)
        {
            for (int x = 0; x < side; x++)
            {
                bool inBlock = x >= cx && x < cx + block && y >= side / 3 && y < side / 3 + block;
                int o = (y * side + x) * 3;
                for (int ch = 0; ch < 3; ch++)
                {
                    int noise = random.Next(40);
                    rgb[o + ch] = (byte)(inBlock ? 215 + noise : noise + (gray ? 0 : ch * 20));
                }
                if (gray)
                    rgb[o + 1] = rgb[o + 2] = rgb[o];
            }
        }
        return rgb;
    }

    public static byte[] Png(byte[] rgb, int side)
    {
        var rgba = new byte[side * side * 4];
        for (int i = 0; i < side * side; i++)
        {
            rgba[4 * i] = rgb[3 * i];
            rgba[4 * i + 1] = rgb[3 * i + 1];
            rgba[4 * i + 2] = rgb[3 * i + 2];
            rgba[4 * i + 3] = 255;
        }
        using var image = SKImage.FromPixelCopy(new SKImageInfo(side, side, SKColorType.Rgba8888, SKAlphaType.Opaque), rgba);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }
}

/// <summary>A temporary folder deleted at the end of a test.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"alexnet-test-{Guid.NewGuid():N}");

    public TempFolder() => Directory.CreateDirectory(Path);

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }
}
