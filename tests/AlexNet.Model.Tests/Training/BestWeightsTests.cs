using System.IO.Compression;
using System.Text.Json;
using AlexNet.Model.Data;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using AlexNet.Model.Tests.Data;
using AlexNet.Model.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace AlexNet.Model.Tests.Training;

/// <summary>
/// One uninterrupted run whose last epoch is made worse than the first (<see cref="WithAWorseLastEpoch"/>), shared by the
/// tests below: what a resumed run must end with, and what it records.
/// </summary>
public sealed class WorseLastEpochRun : IAsyncLifetime
{
    public const int Classes = 4;
    public const int WorseEpoch = 2;

    private readonly TempFolder temp = new();

    public static TrainingOptions Tiny => new()
    {
        Epochs = WorseEpoch,
        BatchSize = 8,
        InputSize = 64,
        BaseSize = 64,
        WarmupSteps = 0,
        Seed = 5,
        Prefetch = 2,
    };

    public ImageDataSet Data { get; private set; } = null!;

    public TrainingResult Result { get; private set; } = null!;

    public string RunDirectory => temp.Sub("straight");

    /// <summary>Live tensors at the first step of each epoch.</summary>
    public List<long> LiveTensors { get; } = [];

    public string Sub(string name) => temp.Sub(name);

    /// <summary>
    /// A trainer whose epoch <see cref="WorseEpoch"/> ends with a network that scores every image the same, class 0 far
    /// ahead: its validation is at chance (top-1 error 0.75 on 4 balanced classes) with a loss near 50, worse by the rule
    /// than any epoch at or below chance, whatever training did.
    /// </summary>
    public static Trainer WithAWorseLastEpoch(TrainingOptions options) => new(options)
    {
        EpochTrained = (epoch, network) =>
        {
            if (epoch != WorseEpoch)
                return;
            using var noGrad = torch.no_grad();
            foreach (var (name, parameter) in network.named_parameters())
            {
                parameter.zero_();
                if (name.EndsWith("fc8.bias", StringComparison.Ordinal))
                    parameter[0] = 50f;
            }
        },
    };

    public async Task InitializeAsync()
    {
        Data = await ImageDataSet.ListAsync(new FolderImageSource(TinyImages.Create(temp.Sub("data"), classes: Classes, perClass: 10)));
        var count = new Callback(p =>
        {
            if (p.Phase == TrainingPhase.Training && p.Step == 1)
            {
                // Tensors held, not handles waiting for the finalizer (WeightCopyMemoryTests checks those).
                GC.Collect();
                GC.WaitForPendingFinalizers();
                LiveTensors.Add(Tensor.TotalCount);
            }
        });
        Result = await WithAWorseLastEpoch(Tiny).RunAsync(Data, RunDirectory, progress: count);
    }

    public Task DisposeAsync()
    {
        temp.Dispose();
        return Task.CompletedTask;
    }
}

[Collection(nameof(TrainingRuns))]
public sealed class BestWeightsTests(WorseLastEpochRun straight) : IClassFixture<WorseLastEpochRun>
{
    private const int WorseEpoch = WorseLastEpochRun.WorseEpoch;

    private static string WeightsHash(TrainingResult result) => ModelPackage.LoadDirectory(result.ModelDirectory).Manifest.WeightsSha256;

    [Fact]
    public async Task TheModelPackageHoldsTheBestEpochsWeightsNotTheLastOnes()
    {
        TrainingResult result = straight.Result;

        IReadOnlyList<EpochMetrics> history = result.History;
        EpochMetrics worse = history[WorseEpoch - 1];
        EpochMetrics first = history[0];
        Assert.Equal(0.75, worse.ValidationTop1Error, 6);
        Assert.True(worse.ValidationLoss > 20, $"the sabotaged epoch's validation loss is {worse.ValidationLoss}");
        Assert.True(first.ValidationTop1Error <= worse.ValidationTop1Error, $"epoch 1 is worse than chance ({first.ValidationTop1Error}): the test shows nothing");
        Assert.Equal(1, result.BestEpoch);
        ModelManifest manifest = ModelPackage.LoadDirectory(result.ModelDirectory).Manifest;
        Assert.Equal(1, manifest.Metrics["best_epoch"]);
        Assert.Equal(WorseEpoch, manifest.Metrics["epochs"]);
        // The package's own validation is epoch 1's, not the last epoch's.
        Assert.Equal(first.ValidationLoss, manifest.Metrics["validation_loss"], 5);
        Assert.Equal(first.ValidationTop1Error, manifest.Metrics["validation_top1_error"], 6);
        Assert.Equal(first.ValidationLoss, result.FinalValidation.Loss, 5);
        using (var metrics = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(straight.RunDirectory, Trainer.MetricsFile))))
        {
            Assert.Equal(1, metrics.RootElement.GetProperty("bestEpoch").GetInt32());
            Assert.Equal(first.ValidationLoss, metrics.RootElement.GetProperty("finalValidation").GetProperty("loss").GetDouble(), 5);
        }
        // The best weights are kept as bytes, not tensors: no more tensors live in the second epoch than in the first.
        Assert.Equal(WorseEpoch, straight.LiveTensors.Count);
        Assert.True(straight.LiveTensors[1] <= straight.LiveTensors[0], $"live tensors grew from {straight.LiveTensors[0]} to {straight.LiveTensors[1]} between epochs");
    }

    [Fact]
    public async Task RunsResumedAfterTheBestEpochStillPackageItsWeights()
    {
        ImageDataSet data = straight.Data;
        TrainingOptions tiny = WorseLastEpochRun.Tiny;

        // Stopped inside the worse epoch: the checkpoint's weights are that epoch's, the best ones ride along.
        string cancelled = straight.Sub("cancelled");
        using var cancel = new CancellationTokenSource();
        var stopInWorseEpoch = new Callback(p =>
        {
            if (p.Phase == TrainingPhase.Training && p.Epoch == WorseEpoch && p.Step == 2)
                cancel.Cancel();
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            WorseLastEpochRun.WithAWorseLastEpoch(tiny).RunAsync(data, cancelled, progress: stopInWorseEpoch, cancellationToken: cancel.Token));
        using (ZipArchive zip = ZipFile.OpenRead(Path.Combine(cancelled, TrainingCheckpoint.FileName)))
            Assert.NotNull(zip.GetEntry("best.bin"));
        TrainingResult afterCancel = await WorseLastEpochRun.WithAWorseLastEpoch(tiny).RunAsync(data, cancelled, resume: true);

        // Ended after epoch 1, then extended: the checkpoint's own weights are the best ones.
        string extended = straight.Sub("extended");
        await new Trainer(tiny with { Epochs = 1 }).RunAsync(data, extended);
        using (ZipArchive zip = ZipFile.OpenRead(Path.Combine(extended, TrainingCheckpoint.FileName)))
            Assert.Null(zip.GetEntry("best.bin"));
        TrainingResult afterExtension = await WorseLastEpochRun.WithAWorseLastEpoch(tiny).RunAsync(data, extended, resume: true);

        double firstEpochLoss = straight.Result.History[0].ValidationLoss;
        Assert.Equal((WorseEpoch, 2), (afterCancel.ResumedAtEpoch, afterCancel.ResumedAtStep));
        Assert.Equal(1, afterCancel.BestEpoch);
        Assert.Equal(firstEpochLoss, afterCancel.FinalValidation.Loss, 5);
        Assert.Equal(WeightsHash(straight.Result), WeightsHash(afterCancel));
        Assert.Equal(1, afterExtension.BestEpoch);
        Assert.Equal(firstEpochLoss, afterExtension.FinalValidation.Loss, 5);
        Assert.Equal(WeightsHash(straight.Result), WeightsHash(afterExtension));
    }

    [Fact]
    public void ACheckpointOfTheEarlierFormatIsRefusedWithWhatToDo()
    {
        string path = straight.Sub("old-" + TrainingCheckpoint.FileName);
        using (ZipArchive zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            using Stream state = zip.CreateEntry("state.json").Open();
            state.Write("""{"format": 2, "completedEpochs": 4}"""u8);
        }

        var error = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.ReadState(path));

        Assert.Equal(
            $"checkpoint {path} has format 2, this version reads 3: finish it with the version that wrote it, or train into a new folder",
            error.Message);
    }
}
