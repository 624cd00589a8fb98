using AlexNet.Model.Data;
using AlexNet.Model.Evaluation;
using AlexNet.Model.Inference;
using AlexNet.Model.Packaging;
using AlexNet.Model.Tests.Data;
using AlexNet.Model.Training;
using Xunit.Abstractions;

namespace AlexNet.Model.Tests.Training;

[Collection(nameof(TrainingRuns))]
public sealed class LearningTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>
    /// Bar for test top-1 accuracy after the short run below; chance is 0.10. Measured on this project's 2-core
    /// machines (docs/training.md): see there for the figures the margin was set from.
    /// </summary>
    private const double AccuracyBar = 0.40;

    private readonly TempFolder temp = new();

    [Fact]
    public async Task LearnsFashionMnistWellAboveChanceInAShortCpuRun()
    {
        Assert.True(FashionMnistImporter.IsInstalled(), "Debian's dataset-fashion-mnist is not installed (scripts/test.sh installs it): no real data to learn from");
        FashionMnistImporter.Import(FashionMnistImporter.DebianDirectory, temp.Path, limitPerClass: 60);
        ImageDataSet train = await ImageDataSet.ListAsync(new FolderImageSource(temp.Sub("train")));
        ImageDataSet test = await ImageDataSet.ListAsync(new FolderImageSource(temp.Sub("test")));
        // The defaults: batch (16 for 540 images), base size (73), init, warm-up and schedule are theirs.
        var options = new TrainingOptions { Epochs = 10, InputSize = 64, Seed = 1 };

        TrainingResult result = await new Trainer(options).RunAsync(train, temp.Sub("run"));
        var reports = await Evaluator.EvaluateAsync(ModelPackage.LoadDirectory(result.ModelDirectory), test, [CropMode.Center]);

        EvaluationReport report = reports[0];
        output.WriteLine($"Fashion-MNIST 540 training images, {result.CompletedEpochs} epochs: test top-1 accuracy {report.Top1Accuracy:F3}, top-5 {1 - report.Top5Error:F3}, " +
            $"validation top-1 error per epoch {string.Join(" ", result.History.Select(m => m.ValidationTop1Error.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)))}");
        Assert.Equal(600, report.Images);
        Assert.True(report.Top1Accuracy > AccuracyBar, $"test top-1 accuracy {report.Top1Accuracy:F3} after {result.CompletedEpochs} epochs (bar {AccuracyBar})");
    }

    public void Dispose() => temp.Dispose();
}
