using AlexNet.Testing;

namespace AlexNet.Imaging.Tests;

public class DecodeBenchmarkTests
{
    [Fact]
    public void BenchmarkCountsEveryDecodeOfEveryFile()
    {
        var images = Enumerable.Range(0, 3).Select(s => SampleImages.PhotoJpeg(320, 240, seed: s)).Append([1, 2, 3]).ToList();

        var result = new DecodeBenchmark().Run(images, baseSize: 128, iterations: 2);

        Assert.Equal(4, result.Files);
        Assert.Equal(1, result.Rejected);
        Assert.Equal(8, result.Decodes);
        Assert.True(result.ImagesPerSecond > 0);
        Assert.True(result.SourceMegapixelsPerSecond > 0);
    }

    [Fact]
    public void BenchmarkReadsFilesFromDisk()
    {
        var folder = Directory.CreateTempSubdirectory("alexnet-bench-");
        try
        {
            var path = Path.Combine(folder.FullName, "a.jpg");
            File.WriteAllBytes(path, SampleImages.PhotoJpeg(300, 200, seed: 9));

            var result = new DecodeBenchmark().Run([path], iterations: 1);

            Assert.Equal((1, 0, 1), (result.Files, result.Rejected, result.Decodes));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
