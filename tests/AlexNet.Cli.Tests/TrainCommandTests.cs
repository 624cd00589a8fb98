using System.Diagnostics;
using System.Text.Json;
using AlexNet.Cli.Commands;
using AlexNet.Model.Training;

namespace AlexNet.Cli.Tests;

/// <summary>Training runs use all cores and torch's process-wide generator: they run alone.</summary>
[CollectionDefinition(nameof(TrainingCommands), DisableParallelization = true)]
public sealed class TrainingCommands;

[Collection(nameof(TrainingCommands))]
public sealed class TrainCommandTests : IDisposable
{
    private static readonly string[] Small = ["--input-size", "64", "--base-size", "72", "--batch", "8"];
    private readonly TrainingData data = new();

    private async Task<string> ImportAsync()
    {
        string output = data.Sub("images");
        var run = await CliRun.Of("import", "fashion-mnist", "--source", data.Idx, "--out", output);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("imported 80 training and 80 test images of 10 classes", run.Output, StringComparison.Ordinal);
        return output;
    }

    [Fact]
    public async Task ImportTrainAndEvalRunEndToEnd()
    {
        string images = await ImportAsync();
        string runDirectory = data.Sub("run");

        var train = await CliRun.Of(["train", "--data", Path.Combine(images, "train"), "--out", runDirectory, "--epochs", "1", .. Small]);
        var eval = await CliRun.Of("eval", "--model", Path.Combine(runDirectory, "model"), "--data", Path.Combine(images, "test"), "--ten-crop", "--json");
        var table = await CliRun.Of("eval", "--model", Path.Combine(runDirectory, "model"), "--data", Path.Combine(images, "test"));

        Assert.Equal(0, train.ExitCode);
        Assert.Contains("Training Completed", train.Output, StringComparison.Ordinal);
        Assert.Contains("epoch 1: train loss", train.Output, StringComparison.Ordinal);
        Assert.Contains("validation top-5 error", train.Output, StringComparison.Ordinal);
        Assert.Equal(0, eval.ExitCode);
        using var json = JsonDocument.Parse(eval.Output);
        var reports = json.RootElement.GetProperty("reports").EnumerateArray().ToArray();
        Assert.Equal(["Center", "TenCrop"], reports.Select(r => r.GetProperty("cropMode").GetString()));
        Assert.All(reports, r => Assert.Equal(80, r.GetProperty("images").GetInt32()));
        Assert.All(reports, r => Assert.Equal(80, r.GetProperty("confusionMatrix").EnumerateArray().Sum(row => row.EnumerateArray().Sum(v => v.GetInt32()))));
        Assert.Equal("Ankle_boot", reports[0].GetProperty("perClass")[0].GetProperty("class").GetString());
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("Confusion matrix", table.Output, StringComparison.Ordinal);
        Assert.Contains("T-shirt_top", table.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAbsurdLearningRateExitsWithCode3AndOneClearLine()
    {
        string images = await ImportAsync();
        string runDirectory = data.Sub("diverging");

        var run = await CliRun.Of(["train", "--data", Path.Combine(images, "train"), "--out", runDirectory, "--epochs", "1", "--lr", "1e6", .. Small]);

        Assert.Equal(TrainCommand.Diverged, run.ExitCode);
        Assert.StartsWith("alexnet: training diverged at epoch 1, step ", run.Error, StringComparison.Ordinal);
        Assert.Single(run.Error.Trim().Split('\n'));
        Assert.False(Directory.Exists(Path.Combine(runDirectory, "model")));
    }

    [Fact]
    public async Task KilledTrainingProcessResumesFromItsLastCheckpointAndFinishes()
    {
        string images = await ImportAsync();
        string runDirectory = data.Sub("killed");
        string checkpoint = Path.Combine(runDirectory, TrainingCheckpoint.FileName);
        string[] arguments = ["train", "--data", Path.Combine(images, "train"), "--out", runDirectory, "--epochs", "3", "--checkpoint-every", "2", .. Small];

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "alexnet.dll"));
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        using (var child = Process.Start(start)!)
        {
            child.OutputDataReceived += (_, _) => { };
            child.ErrorDataReceived += (_, _) => { };
            child.BeginOutputReadLine();
            child.BeginErrorReadLine();
            var waited = Stopwatch.StartNew();
            while (!File.Exists(checkpoint) && !child.HasExited && waited.Elapsed < TimeSpan.FromMinutes(3))
                await Task.Delay(50);
            Assert.True(File.Exists(checkpoint), "no checkpoint appeared");
            Assert.False(child.HasExited, "training finished before it could be killed; the data set is too small for this test");
            child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync();
        }
        TrainingState killedAt = TrainingCheckpoint.ReadState(checkpoint);
        Assert.False(Directory.Exists(Path.Combine(runDirectory, "model")));
        Assert.True(killedAt.CompletedEpochs < 3);

        var resumed = await CliRun.Of([.. arguments, "--resume"]);

        Assert.Equal(0, resumed.ExitCode);
        Assert.Contains("resumed at", resumed.Output, StringComparison.Ordinal);
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(runDirectory, "metrics.json")));
        Assert.Equal([1, 2, 3], metrics.RootElement.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("epoch").GetInt32()));
        Assert.Equal("Completed", metrics.RootElement.GetProperty("outcome").GetString());
        Assert.True(File.Exists(Path.Combine(runDirectory, "model", "manifest.json")));
    }

    [Theory]
    [InlineData("train", "--data", "/no/such/folder", "--out", "/tmp/x")]
    [InlineData("train", "--data", "/tmp", "--out", "/tmp/x", "--epochs", "0")]
    [InlineData("train", "--data", "/tmp", "--out", "/tmp/x", "--input-size", "64", "--base-size", "60")]
    [InlineData("train", "--data", "/tmp", "--out", "/tmp/x", "--device", "cuda:0")]
    [InlineData("train", "--data", "/tmp", "--out", "/tmp/x", "--device", "tpu")]
    [InlineData("train", "--data", "/tmp", "--out", "/tmp/x", "--device", "cpu,cpu,cpu")]
    [InlineData("eval", "--model", "/tmp", "--data", "/no/such/folder")]
    [InlineData("import", "fashion-mnist", "--out", "/tmp/x", "--limit-per-class", "0")]
    public async Task BadArgumentsGiveOneLineAndExitCode2(params string[] args)
    {
        var run = await CliRun.Of(args);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("alexnet: ", run.Error, StringComparison.Ordinal);
        Assert.Single(run.Error.Trim().Split('\n'));
    }

    [Fact]
    public async Task EvalOfAFolderWithoutAModelSaysSo()
    {
        var run = await CliRun.Of("eval", "--model", data.Path, "--data", data.Path);

        // A --model that is not a model package is a bad argument: one line, exit 2.
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("manifest.json", run.Error, StringComparison.Ordinal);
        Assert.Single(run.Error.Trim().Split('\n'));
    }

    public void Dispose() => data.Dispose();
}
