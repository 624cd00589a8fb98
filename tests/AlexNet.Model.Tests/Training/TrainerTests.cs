using AlexNet.Model.Data;
using AlexNet.Model.Inference;
using AlexNet.Model.Packaging;
using AlexNet.Model.Reporting;
using AlexNet.Model.Tests.Data;
using AlexNet.Model.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace AlexNet.Model.Tests.Training;

/// <summary>Training runs use torch's process-wide generator and all cores: they run alone.</summary>
[CollectionDefinition(nameof(TrainingRuns), DisableParallelization = true)]
public sealed class TrainingRuns;

[Collection(nameof(TrainingRuns))]
public sealed class TrainerTests : IDisposable
{
    private readonly TempFolder temp = new();

    private static TrainingOptions Tiny => new()
    {
        Epochs = 2,
        BatchSize = 16,
        InputSize = 64,
        BaseSize = 72,
        ValidationFraction = 0.1,
        Seed = 5,
        Prefetch = 2,
    };

    private async Task<ImageDataSet> TinyData(int perClass = 10) =>
        await ImageDataSet.ListAsync(new FolderImageSource(TinyImages.Create(temp.Sub("data"), classes: 10, perClass: perClass)));

    private static string WeightsHash(TrainingResult result) => ModelPackage.LoadDirectory(result.ModelDirectory).Manifest.WeightsSha256;

    [Fact]
    public async Task CancelledMidEpochAndResumedEndsExactlyLikeAnUninterruptedRun()
    {
        ImageDataSet data = await TinyData();
        TrainingResult straight = await new Trainer(Tiny).RunAsync(data, temp.Sub("straight"));

        using var cancel = new CancellationTokenSource();
        var stopInEpochTwo = new Callback(p =>
        {
            if (p.Phase == TrainingPhase.Training && p.Epoch == 2 && p.Step == 3)
                cancel.Cancel();
        });
        string run = temp.Sub("interrupted");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new Trainer(Tiny).RunAsync(data, run, progress: stopInEpochTwo, cancellationToken: cancel.Token));
        TrainingState saved = TrainingCheckpoint.ReadState(Path.Combine(run, TrainingCheckpoint.FileName));
        Assert.Equal((1, 3), (saved.CompletedEpochs, saved.StepInEpoch));
        Assert.False(Directory.Exists(Path.Combine(run, Trainer.ModelFolder)));

        TrainingResult resumed = await new Trainer(Tiny).RunAsync(data, run, resume: true);

        Assert.Equal(TrainingOutcome.Completed, resumed.Outcome);
        Assert.Equal((2, 3), (resumed.ResumedAtEpoch, resumed.ResumedAtStep));
        Assert.Equal([1, 2], resumed.History.Select(m => m.Epoch));
        Assert.Equal(straight.History.Select(m => m.TrainLoss), resumed.History.Select(m => m.TrainLoss));
        Assert.Equal(straight.History.Select(m => m.ValidationLoss), resumed.History.Select(m => m.ValidationLoss));
        // Same seed, same weights to the bit: splits, shuffles, crops, colour shifts and dropout all replayed.
        Assert.Equal(WeightsHash(straight), WeightsHash(resumed));
    }

    [Fact]
    public async Task TwoTowersEachOnADeviceOfTheirOwnTrainAndGiveAPackageTheGroupedLayoutLoads()
    {
        ImageDataSet data = await TinyData();
        // Two CPU devices stand in for two GPUs: the towers are separate modules and the crossings real copies.
        var options = Tiny with { Epochs = 1, Layout = Network.AlexNetLayout.TwoTower, Devices = ["cpu", "cpu"] };

        TrainingResult result = await new Trainer(options).RunAsync(data, temp.Sub("towers"));

        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        Assert.True(double.IsFinite(result.History.Single().TrainLoss));
        ModelPackage package = ModelPackage.LoadDirectory(result.ModelDirectory);
        Assert.Equal(Network.AlexNetLayout.TwoTower, package.Manifest.Layout);
        using var grouped = new Classifier(package, Network.AlexNetLayout.Grouped);
        Assert.Equal(10, grouped.Manifest.Classes.Count);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda")]
    [InlineData("cuda:0,cuda:1")]
    public void DevicesThatAreNotTorchDeviceNamesAreRefused(string device)
    {
        var error = Assert.Throws<ArgumentException>(() => (Tiny with { Devices = [device] }).Validate());
        Assert.Contains(device, error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => (Tiny with { Devices = ["cpu", "cpu", "cpu"] }).Validate());
    }

    [Fact]
    public async Task RunFolderHoldsAFullModelPackageMetricsAndPlotsAndSkipsACorruptImage()
    {
        TinyImages.Create(temp.Sub("data"), classes: 10, perClass: 10);
        await File.WriteAllBytesAsync(Path.Combine(temp.Sub("data"), "class-03", "broken.png"), [0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
        ImageDataSet data = await ImageDataSet.ListAsync(new FolderImageSource(temp.Sub("data")));
        string run = temp.Sub("run");

        TrainingResult result = await new Trainer(Tiny with { Epochs = 1, ParentVersion = "v0", Version = "v1" }).RunAsync(data, run);

        Assert.Equal(1, result.RejectedImages);
        ModelPackage package = ModelPackage.LoadDirectory(result.ModelDirectory);
        ModelManifest manifest = package.Manifest;
        Assert.Equal("v1", manifest.Version);
        Assert.Equal("v0", manifest.ParentVersion);
        Assert.Equal(data.Classes, manifest.Classes);
        Assert.Equal((64, 72), (manifest.InputSize, manifest.BaseSize));
        Assert.Equal(data.Fingerprint, manifest.TrainingDataFingerprint);
        Assert.Equal(3, manifest.Mean.Length);
        Assert.InRange(manifest.Mean[0], 1, 254);
        Assert.NotNull(manifest.Pca);
        Assert.Equal(3, manifest.Pca!.EigenVectors.Length);
        Assert.Equal(result.FinalValidation.Top1Error, manifest.Metrics["validation_top1_error"]);
        Assert.Equal(1, manifest.Metrics["epochs"]);
        Assert.NotNull(manifest.CodeVersion);
        Assert.True(manifest.CreatedAt > DateTimeOffset.UnixEpoch);
        using (var classifier = new Classifier(package))
            Assert.Equal(10, classifier.Options.Classes);

        string metrics = File.ReadAllText(Path.Combine(run, Trainer.MetricsFile));
        Assert.Contains("\"validationTop5Error\"", metrics, StringComparison.Ordinal);
        Assert.Contains("\"imagesPerSecond\"", metrics, StringComparison.Ordinal);
        Assert.Contains("\"outcome\": \"Completed\"", metrics, StringComparison.Ordinal);
        foreach (string plot in new[] { TrainingPlots.LossFile, TrainingPlots.ErrorFile, TrainingPlots.ConfusionFile })
            Assert.True(new FileInfo(Path.Combine(run, plot)).Length > 1000, plot);
    }

    [Fact]
    public async Task AbsurdLearningRateStopsWithinAFewStepsKeepsTheLastGoodCheckpointAndWritesNoModel()
    {
        ImageDataSet data = await TinyData();
        string run = temp.Sub("diverge");
        int steps = 0;
        var count = new Callback(p => steps = p.Phase == TrainingPhase.Training ? steps + 1 : steps);

        var error = await Assert.ThrowsAsync<TrainingDivergedException>(() =>
            new Trainer(Tiny with { LearningRate = 1e6, CheckpointEvery = 1 }).RunAsync(data, run, progress: count));

        Assert.InRange(steps, 1, 4);
        Assert.Contains("diverged", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(run, Trainer.ModelFolder)));
        string checkpoint = Path.Combine(run, TrainingCheckpoint.FileName);
        if (File.Exists(checkpoint))
        {
            // A checkpoint is only written once its weights gave a finite loss on the next batch.
            TrainingState state = TrainingCheckpoint.ReadState(checkpoint);
            Assert.True(state.GlobalStep < steps);
        }
    }

    [Fact]
    public async Task ARealNaNInTheWeightsStopsTrainingAsDivergedAndKeepsNothingOfIt()
    {
        ImageDataSet data = await TinyData();
        string run = temp.Sub("nan");
        var trainer = new Trainer(Tiny with { Epochs = 2 })
        {
            // One weight of conv1 becomes NaN at the end of epoch 1: every activation after it, the validation loss
            // and the next batch's loss are NaN, as after a real overflow.
            EpochTrained = (epoch, network) =>
            {
                using var noGrad = torch.no_grad();
                network.named_parameters().First(p => p.name.StartsWith("conv1", StringComparison.Ordinal)).parameter.view(-1)[0] = float.NaN;
            },
        };

        var error = await Assert.ThrowsAsync<TrainingDivergedException>(() => trainer.RunAsync(data, run));

        Assert.Contains("diverged at epoch 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("NaN", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(run, Trainer.ModelFolder)));
        string checkpoint = Path.Combine(run, TrainingCheckpoint.FileName);
        if (File.Exists(checkpoint))
            Assert.Equal(0, TrainingCheckpoint.ReadState(checkpoint).CompletedEpochs);
    }

    [Fact]
    public async Task DivergenceAfterAGoodEpochLeavesThatEpochsCheckpointUntouched()
    {
        ImageDataSet data = await TinyData();
        string run = temp.Sub("good-then-bad");
        await new Trainer(Tiny with { Epochs = 1 }).RunAsync(data, run);
        string checkpoint = Path.Combine(run, TrainingCheckpoint.FileName);
        byte[] good = await File.ReadAllBytesAsync(checkpoint);
        Directory.Delete(Path.Combine(run, Trainer.ModelFolder), recursive: true);

        // A divergence limit of zero makes the first loss of the resumed run count as divergence.
        await Assert.ThrowsAsync<TrainingDivergedException>(() =>
            new Trainer(Tiny with { DivergenceLossFactor = 0 }).RunAsync(data, run, resume: true));

        Assert.Equal(good, await File.ReadAllBytesAsync(checkpoint));
        Assert.False(Directory.Exists(Path.Combine(run, Trainer.ModelFolder)));
    }

    [Fact]
    public async Task TimeBudgetStopsPartWayWithACheckpointAndAModelAndResumeFinishes()
    {
        ImageDataSet data = await TinyData();
        string run = temp.Sub("budget");

        TrainingResult stopped = await new Trainer(Tiny with { Epochs = 1, MaxDuration = TimeSpan.FromTicks(1) }).RunAsync(data, run);

        Assert.Equal(TrainingOutcome.TimeBudgetReached, stopped.Outcome);
        Assert.Equal(0, stopped.CompletedEpochs);
        Assert.True(File.Exists(Path.Combine(stopped.ModelDirectory, ModelPackage.ManifestFileName)));
        TrainingState state = TrainingCheckpoint.ReadState(Path.Combine(run, TrainingCheckpoint.FileName));
        Assert.Equal(1, state.StepInEpoch);

        TrainingResult finished = await new Trainer(Tiny with { Epochs = 1 }).RunAsync(data, run, resume: true);

        Assert.Equal(TrainingOutcome.Completed, finished.Outcome);
        Assert.Equal([1], finished.History.Select(m => m.Epoch));
        Assert.Equal((1, 1), (finished.ResumedAtEpoch, finished.ResumedAtStep));
    }

    [Fact]
    public async Task ResumeRefusesChangedDataAndAFreshStartRefusesAFolderWithACheckpoint()
    {
        ImageDataSet data = await TinyData();
        string run = temp.Sub("guarded");
        await new Trainer(Tiny with { Epochs = 1, MaxDuration = TimeSpan.FromTicks(1) }).RunAsync(data, run);
        File.Copy(Path.Combine(temp.Sub("data"), "class-00", "000.png"), Path.Combine(temp.Sub("data"), "class-00", "extra.png"));
        ImageDataSet changed = await ImageDataSet.ListAsync(data.Source);

        var changedError = await Assert.ThrowsAsync<InvalidDataException>(() => new Trainer(Tiny).RunAsync(changed, run, resume: true));
        var freshError = await Assert.ThrowsAsync<InvalidOperationException>(() => new Trainer(Tiny).RunAsync(data, run));

        Assert.Contains("fingerprint", changedError.Message, StringComparison.Ordinal);
        Assert.Contains("checkpoint", freshError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrainingStepsLeaveNoTensorBehind()
    {
        ImageDataSet data = await TinyData();
        var counts = new List<long>();
        var count = new Callback(p =>
        {
            if (p.Phase == TrainingPhase.Training && p.Epoch == 1)
                counts.Add(Tensor.TotalCount);
        });

        await new Trainer(Tiny with { Epochs = 1, BatchSize = 8 }).RunAsync(data, temp.Sub("memory"), progress: count);

        // Each step reads every parameter's gradient; an undisposed handle would add 16 live tensors per step
        // (until the garbage collector happens to finalise them) and pin a gradient's storage each.
        Assert.True(counts.Count >= 10);
        Assert.All(counts.Zip(counts.Skip(1)), pair => Assert.True(pair.Second <= pair.First, $"live tensors grew from {pair.First} to {pair.Second} in one step"));
    }

    public void Dispose() => temp.Dispose();
}

/// <summary>Reports on the calling thread, in order.</summary>
internal sealed class Callback(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => report(value);
}
