using AlexNet.Imaging;
using AlexNet.Model.Data;
using AlexNet.Model.Packaging;
using AlexNet.Model.Training;

namespace AlexNet.Model.Tests.Training;

public sealed class ColorStatisticsTests
{
    private static BaseImage Image(int side, Func<int, int, (byte R, byte G, byte B)> pixel)
    {
        var rgb = new byte[side * side * 3];
        for (int y = 0; y < side; y++)
        {
            for (int x = 0; x < side; x++)
            {
                var (r, g, b) = pixel(x, y);
                int o = (y * side + x) * 3;
                (rgb[o], rgb[o + 1], rgb[o + 2]) = (r, g, b);
            }
        }
        return BaseImage.From(new RgbImage(side, side, rgb));
    }

    [Fact]
    public void MeanAndCovarianceMatchAComputationByHand()
    {
        var random = new Random(5);
        BaseImage[] images = Enumerable.Range(0, 3)
            .Select(_ => Image(8, (_, _) => ((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(100))))
            .ToArray();
        var pixels = images.SelectMany(image =>
        {
            var rgb = new byte[8 * 8 * 3];
            image.CopyRgb(rgb);
            return rgb.Chunk(3).Select(p => p.Select(v => v / 255.0).ToArray());
        }).ToArray();
        double[] mean = Enumerable.Range(0, 3).Select(c => pixels.Average(p => p[c])).ToArray();
        double[,] covariance = new double[3, 3];
        for (int a = 0; a < 3; a++)
        {
            for (int b = 0; b < 3; b++)
                covariance[a, b] = pixels.Average(p => (p[a] - mean[a]) * (p[b] - mean[b]));
        }

        ColorStatistics stats = ColorStatistics.Compute(images);

        for (int c = 0; c < 3; c++)
            Assert.Equal(mean[c] * 255, stats.Mean[c], 2);
        Assert.Equal(covariance[0, 0] + covariance[1, 1] + covariance[2, 2], stats.Pca.EigenValues.Sum(), 4);
        Assert.True(stats.Pca.EigenValues[0] >= stats.Pca.EigenValues[1] && stats.Pca.EigenValues[1] >= stats.Pca.EigenValues[2]);
        for (int i = 0; i < 3; i++)
        {
            float[] v = stats.Pca.EigenVectors[i];
            Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 4);
            for (int row = 0; row < 3; row++)
            {
                double av = Enumerable.Range(0, 3).Sum(col => covariance[row, col] * v[col]);
                Assert.Equal(stats.Pca.EigenValues[i] * v[row], av, 4);
            }
        }
    }

    [Fact]
    public void GrayImagesHaveOnePrincipalComponentAlongTheGrayAxis()
    {
        BaseImage[] images = [Image(6, (x, y) => ((byte)(x * 40), (byte)(x * 40), (byte)(x * 40))), Image(6, (x, y) => ((byte)(y * 30), (byte)(y * 30), (byte)(y * 30)))];

        ColorStatistics stats = ColorStatistics.Compute(images);

        Assert.True(images.All(i => i.IsGray));
        Assert.All(stats.Pca.EigenVectors[0], v => Assert.Equal(1 / Math.Sqrt(3), Math.Abs(v), 4));
        Assert.True(stats.Pca.EigenValues[1] < 1e-6 && stats.Pca.EigenValues[0] > 0.01);
        Assert.Equal(stats.Mean[0], stats.Mean[2]);
    }

    [Fact]
    public void ColorShiftIsTheEigenvectorsWeightedByAlphaTimesEigenvalueOnThe255Scale()
    {
        var pca = new PcaBasis([0.2f, 0.02f, 0.004f], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
        var shift = new float[3];

        ColorStatistics.ColorShift(pca, [0.1, -0.2, 0.5], shift);

        Assert.Equal(0.1 * 0.2 * 255, shift[0], 3);
        Assert.Equal(-0.2 * 0.02 * 255, shift[1], 3);
        Assert.Equal(0.5 * 0.004 * 255, shift[2], 3);
    }
}
