using AlexNet.Imaging;
using AlexNet.Model.Evaluation;
using AlexNet.Model.Reporting;
using AlexNet.Model.Tests.Data;
using AlexNet.Model.Training;

namespace AlexNet.Model.Tests.Reporting;

public sealed class TrainingPlotsTests : IDisposable
{
    private readonly TempFolder temp = new();

    private static RgbImage Decode(string path)
    {
        var decoded = new ImageDecoder().Decode(File.ReadAllBytes(path), 400);
        Assert.True(decoded.IsDecoded, decoded.ToString());
        return decoded.Image;
    }

    /// <summary>Non-white pixels in the band at the top where the title is drawn.</summary>
    private static int InkInTitleBand(RgbImage image)
    {
        int ink = 0;
        for (int y = 0; y < image.Height / 20; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                var (r, g, b) = image.GetPixel(x, y);
                if (r + g + b < 600)
                    ink++;
            }
        }
        return ink;
    }

    [Fact]
    public void CurvesAndConfusionRenderAsPngsWithTheirText()
    {
        EpochMetrics[] history = Enumerable.Range(1, 4)
            .Select(e => new EpochMetrics(e, 10, 2.0 / e, 0.8 / e, 0.3 / e, 2.2 / e, 0.9 / e, 0.35 / e, 0.01, 200, 30)).ToArray();
        var report = new EvaluationReport("Center", 4, 0.5, 0, 1.2, ["cat", "dog"], [new("cat", 2, 1), new("dog", 2, 1)], [[1, 1], [1, 1]]);

        TrainingPlots.WriteCurves(temp.Path, history);
        TrainingPlots.WriteConfusion(temp.Sub(TrainingPlots.ConfusionFile), report);

        Assert.NotNull(TrainingPlots.FontFile);
        foreach (string file in new[] { TrainingPlots.LossFile, TrainingPlots.ErrorFile, TrainingPlots.ConfusionFile })
        {
            RgbImage image = Decode(temp.Sub(file));
            // The title is text: without a usable font (SkiaSharp 4 sees no system fonts) this band stays white.
            Assert.True(InkInTitleBand(image) > 20, $"{file} has no title text");
        }
    }

    public void Dispose() => temp.Dispose();
}
