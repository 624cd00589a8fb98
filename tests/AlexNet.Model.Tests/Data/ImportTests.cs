using System.Buffers.Binary;
using System.IO.Compression;
using AlexNet.Imaging;
using AlexNet.Model.Data;

namespace AlexNet.Model.Tests.Data;

public sealed class ImportTests : IDisposable
{
    private readonly TempFolder temp = new();

    private static byte[] Idx(byte rank, int[] shape, byte[] data)
    {
        var bytes = new byte[4 + 4 * rank + data.Length];
        bytes[2] = 0x08;
        bytes[3] = rank;
        for (int d = 0; d < rank; d++)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), shape[d]);
        data.CopyTo(bytes, 4 + 4 * rank);
        return bytes;
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var zip = new GZipStream(output, CompressionLevel.Fastest))
            zip.Write(bytes);
        return output.ToArray();
    }

    /// <summary>A fake Fashion-MNIST: 4x4 images whose pixels all equal 10 * label + index.</summary>
    private string FakeFashionMnist(int count, bool gzip)
    {
        string source = temp.Sub("idx");
        Directory.CreateDirectory(source);
        foreach (string prefix in new[] { "train", "t10k" })
        {
            var labels = Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray();
            var pixels = Enumerable.Range(0, count).SelectMany(i => Enumerable.Repeat((byte)(10 * labels[i] + i / 10), 16)).ToArray();
            byte[] images = Idx(3, [count, 4, 4], pixels), labelFile = Idx(1, [count], labels);
            string suffix = gzip ? ".gz" : "";
            File.WriteAllBytes(Path.Combine(source, $"{prefix}-images-idx3-ubyte{suffix}"), gzip ? Gzip(images) : images);
            File.WriteAllBytes(Path.Combine(source, $"{prefix}-labels-idx1-ubyte{suffix}"), gzip ? Gzip(labelFile) : labelFile);
        }
        return source;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ImportWritesPngsUnderTheRealClassNames(bool gzip)
    {
        string output = temp.Sub("out");

        ImportSummary summary = FashionMnistImporter.Import(FakeFashionMnist(30, gzip), output, limitPerClass: 2);

        Assert.Equal(20, summary.Train);
        Assert.Equal(20, summary.Test);
        Assert.Equal(FashionMnistImporter.ClassNames.Order(StringComparer.Ordinal), Directory.GetDirectories(Path.Combine(output, "train")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        // Index 13 has label 3 (Dress); its pixels are 10 * 3 + 1 = 31, decoded as gray RGB.
        string dress = Path.Combine(output, "test", "Dress", "00013.png");
        ImageDecodeResult decoded = new ImageDecoder().Decode(File.ReadAllBytes(dress), 4);
        Assert.True(decoded.IsDecoded);
        Assert.All(decoded.Image.Pixels, v => Assert.Equal(31, v));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(output, "train", "Ankle_boot")).Length);
    }

    [Fact]
    public void IdxReaderRefusesAFileWhoseDataDoesNotMatchItsHeader()
    {
        string path = temp.Sub("bad-idx");
        File.WriteAllBytes(path, Idx(3, [5, 4, 4], new byte[70]));

        var error = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path));

        Assert.Contains("declares 80", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ImportsTheInstalledFashionMnistWhenThePackageIsThere()
    {
        if (!FashionMnistImporter.IsInstalled())
            return; // CI installs dataset-fashion-mnist; a developer machine may not have it.
        string output = temp.Sub("fashion");

        ImportSummary summary = FashionMnistImporter.Import(FashionMnistImporter.DebianDirectory, output, limitPerClass: 3);

        Assert.Equal(30, summary.Train);
        Assert.Equal(30, summary.Test);
        string[] coats = Directory.GetFiles(Path.Combine(output, "train", "Coat"));
        Assert.Equal(3, coats.Length);
        ImageDecodeResult decoded = new ImageDecoder().Decode(File.ReadAllBytes(coats[0]), 28);
        Assert.True(decoded.IsDecoded);
        Assert.Equal(28, decoded.Header!.Width);
    }

    public void Dispose() => temp.Dispose();
}
