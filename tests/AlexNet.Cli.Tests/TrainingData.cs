using System.Buffers.Binary;

namespace AlexNet.Cli.Tests;

/// <summary>
/// A throw-away folder with a fake Fashion-MNIST in IDX form (random 28x28 images, labels round-robin), so the
/// tests can run <c>alexnet import</c> and train on its output without the real data set.
/// </summary>
internal sealed class TrainingData : IDisposable
{
    public TrainingData(int imagesPerSplit = 80, int seed = 3)
    {
        Directory.CreateDirectory(Idx);
        var random = new Random(seed);
        foreach (string prefix in new[] { "train", "t10k" })
        {
            var labels = Enumerable.Range(0, imagesPerSplit).Select(i => (byte)(i % 10)).ToArray();
            var pixels = new byte[imagesPerSplit * 28 * 28];
            random.NextBytes(pixels);
            File.WriteAllBytes(System.IO.Path.Combine(Idx, $"{prefix}-images-idx3-ubyte"), IdxBytes([imagesPerSplit, 28, 28], pixels));
            File.WriteAllBytes(System.IO.Path.Combine(Idx, $"{prefix}-labels-idx1-ubyte"), IdxBytes([imagesPerSplit], labels));
        }
    }

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"alexnet-cli-{Guid.NewGuid():N}");

    public string Idx => Sub("idx");

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    private static byte[] IdxBytes(int[] shape, byte[] data)
    {
        var bytes = new byte[4 + 4 * shape.Length + data.Length];
        bytes[2] = 0x08;
        bytes[3] = (byte)shape.Length;
        for (int d = 0; d < shape.Length; d++)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), shape[d]);
        data.CopyTo(bytes, 4 + 4 * shape.Length);
        return bytes;
    }

    public void Dispose()
    {
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }
}
