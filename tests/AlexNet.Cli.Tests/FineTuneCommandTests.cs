using AlexNet.Model.Data;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;

namespace AlexNet.Cli.Tests;

[Collection(nameof(TrainingCommands))]
public sealed class FineTuneCommandTests : IDisposable
{
    private readonly TrainingData data = new();

    /// <summary>A model package as <c>alexnet train</c> writes one, with random weights (fast to make).</summary>
    private string Package(string name, IReadOnlyList<string> classes, int inputSize = 64, int baseSize = 70)
    {
        using var network = AlexNetFactory.Create(new AlexNetOptions { Classes = classes.Count, InputSize = inputSize, Init = WeightInit.VarianceScaling, Seed = 4 });
        var manifest = new ModelManifest
        {
            Version = "v-parent",
            Classes = classes,
            InputSize = inputSize,
            BaseSize = baseSize,
            Mean = [90f, 90f, 90f],
            Std = [70f, 70f, 70f],
            WeightsSha256 = "pending",
            CreatedAt = DateTimeOffset.UnixEpoch,
        };
        string folder = data.Sub(name);
        ModelPackage.Create(manifest, network).SaveDirectory(folder);
        return folder;
    }

    [Fact]
    public async Task TrainFromAPackageStartsFromItsWeightsAndRecordsWhereItCameFrom()
    {
        string images = data.Sub("images");
        Assert.Equal(0, (await CliRun.Of("import", "fashion-mnist", "--source", data.Idx, "--out", images)).ExitCode);
        string train = Path.Combine(images, "train");
        IReadOnlyList<string> classes = (await ImageDataSet.ListAsync(new FolderImageSource(train))).Classes;
        string parent = Package("parent", classes);
        string run = data.Sub("run");

        // No --input-size: the package's 64 (the default would be 224); no --base-size: the package's 70.
        var tuned = await CliRun.Of("train", "--data", train, "--out", run, "--from", parent, "--epochs", "1", "--batch", "8");

        Assert.Equal(0, tuned.ExitCode);
        Assert.Contains("fine-tuned from", tuned.Output, StringComparison.Ordinal);
        Assert.Contains("v-parent (every layer)", tuned.Output, StringComparison.Ordinal);
        Assert.Contains("model's weights from epoch", tuned.Output, StringComparison.Ordinal);
        ModelManifest manifest = ModelPackage.LoadDirectory(Path.Combine(run, "model")).Manifest;
        Assert.Equal("v-parent", manifest.ParentVersion);
        Assert.Equal("v-parent", manifest.FineTunedFrom!.Version);
        Assert.False(manifest.FineTunedFrom.HeadReinitialized);
        Assert.Equal((64, 70), (manifest.InputSize, manifest.BaseSize));
        Assert.Equal([70f, 70f, 70f], manifest.Std!);
        Assert.Equal(1, manifest.Metrics["best_epoch"]);
    }

    [Theory]
    [InlineData("missing", "cannot fine-tune from")]
    [InlineData("no manifest", "no manifest.json")]
    [InlineData("tampered", "SHA-256")]
    [InlineData("other input size", "input size 72 differs from model v-parent's 64")]
    [InlineData("other parent version", "parent version v-other is not the version of the model fine-tuned from, v-parent")]
    public async Task ABadFromGivesOneLineAndExitCode2(string problem, string message)
    {
        string emptyData = data.Sub("empty");
        Directory.CreateDirectory(emptyData);
        string parent = problem == "missing" ? data.Sub("nothing") : Package("parent", ["a", "b"]);
        string[] extra = [];
        switch (problem)
        {
            case "no manifest":
                File.Delete(Path.Combine(parent, ModelPackage.ManifestFileName));
                break;
            case "tampered":
                string weights = Path.Combine(parent, ModelPackage.WeightsFileName);
                byte[] bytes = await File.ReadAllBytesAsync(weights);
                bytes[^1] ^= 0x01;
                await File.WriteAllBytesAsync(weights, bytes);
                break;
            case "other input size":
                extra = ["--input-size", "72"];
                break;
            case "other parent version":
                extra = ["--parent-version", "v-other"];
                break;
        }

        var run = await CliRun.Of(["train", "--data", emptyData, "--out", data.Sub("run"), "--from", parent, .. extra]);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("alexnet: ", run.Error, StringComparison.Ordinal);
        Assert.Contains(message, run.Error, StringComparison.Ordinal);
        Assert.Single(run.Error.Trim().Split('\n'));
        Assert.False(Directory.Exists(data.Sub("run")));
    }

    public void Dispose() => data.Dispose();
}
