using System.CommandLine;
using System.Globalization;
using AlexNet.Model.Data;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using AlexNet.Model.Training;
using Spectre.Console;

namespace AlexNet.Cli.Commands;

/// <summary><c>alexnet train</c>: trains on a folder of class folders; checkpoints, resume, progress, summary.</summary>
public static class TrainCommand
{
    /// <summary>Exit code when the loss diverged (NaN, Inf or absurd) and training stopped.</summary>
    public const int Diverged = 3;

    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Training images: <data>/<class>/<image>.", Required = true };
        var output = new Option<string>("--out") { Description = "Run folder: checkpoint, metrics.json, plots, model/.", Required = true };
        var recipe = new Option<string>("--recipe")
        {
            Description = "Training defaults: 'default' (learns on small and large sets) or 'paper' (the 2012 recipe as written). Flags below override.",
            DefaultValueFactory = _ => "default",
        };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs to train at most (default 90, the paper's; training stops earlier once converged)." };
        var batch = new Option<int?>("--batch") { Description = "Images per SGD step (default: 16-128 by the set's size; paper 128)." };
        var lr = new Option<double?>("--lr") { Description = "Initial learning rate, divided by 10 on plateaus at most 3 times (default 0.01)." };
        var patience = new Option<int?>("--patience") { Description = "Epochs without better validation error before the rate drops (default 3)." };
        var minPatienceSteps = new Option<int?>("--min-patience-steps") { Description = "A plateau lasts at least this many steps (default 400; paper 0)." };
        var warmup = new Option<int?>("--warmup-steps") { Description = "Steps of linear warm-up from a tenth of the rate (default 100; paper 0)." };
        var init = new Option<string?>("--init") { Description = "Initial weights: 'variance-scaling' (default) or 'paper' (N(0, 0.01), biases --positive-bias)." };
        var inputSize = new Option<int?>("--input-size") { Description = "Side of the network's input crop (default 224, the paper's; 64 for 28x28 data)." };
        var baseSize = new Option<int?>("--base-size") { Description = "Side of the base image that crops come from (default: input x 256/224, so 256 for 224 and 73 for 64)." };
        var layout = new Option<AlexNetLayout>("--layout") { Description = "Grouped (one device) or TwoTower (the paper's split).", DefaultValueFactory = _ => AlexNetLayout.Grouped };
        var seed = new Option<int>("--seed") { Description = "Seed of weights, split, shuffling, augmentation and dropout.", DefaultValueFactory = _ => 1 };
        var resume = new Option<bool>("--resume") { Description = "Continue from the run folder's checkpoint." };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Also checkpoint every N steps (0: each epoch only).", DefaultValueFactory = _ => 0 };
        var maxMinutes = new Option<double?>("--max-minutes") { Description = "Stop after M minutes: checkpoint, write the model, exit 0 (--resume continues)." };
        var limit = new Option<int?>("--limit") { Description = "Use at most N images of each class." };
        var positiveBias = new Option<double?>("--positive-bias") { Description = "With --init paper: initial bias of conv2, conv4, conv5, fc6, fc7 (paper 1; Caffe 0.1)." };
        var threads = new Option<int>("--threads") { Description = "Torch CPU threads (0: torch's default).", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device")
        {
            Description = "Where to train: cpu, cuda (two GPUs: two towers), cuda:N, or two devices such as cuda:0,cuda:1 (--layout TwoTower puts one tower on each).",
            DefaultValueFactory = _ => "cpu",
        };
        var parent = new Option<string?>("--parent-version") { Description = "Version of the model this one replaces (recorded in the manifest; with --from, the package's)." };
        var from = new Option<string?>("--from")
        {
            Description = "Fine-tune: start from the weights of this model package folder (manifest.json + weights file, e.g. <run>/model). " +
                "Same classes: every layer; other classes: all but fc8, which starts afresh. Input size, base size, mean and std are the package's.",
        };

        var command = new Command("train",
            "Train AlexNet on a folder of class folders: the paper's optimiser and schedule, with defaults that learn on small sets too.\n\n" +
            "Example:\n  alexnet train --data data/fashion-mnist/train --out runs/fmnist --input-size 64 --epochs 30 --checkpoint-every 200")
        {
            data, output, recipe, epochs, batch, lr, patience, minPatienceSteps, warmup, init, inputSize, baseSize, layout, seed, resume,
            checkpointEvery, maxMinutes, limit, positiveBias, threads, parent, from, device,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            IReadOnlyList<TorchSharp.torch.Device> devices = NetworkBench.ParseDevices(parse.GetValue(device)!);
            ModelPackage? parentModel = parse.GetValue(from) is { } fromFolder ? LoadParent(fromFolder) : null;
            TrainingOptions options;
            try
            {
                TrainingOptions defaults = TrainingOptions.For(TrainingOptions.ParseRecipe(parse.GetValue(recipe)!));
                options = defaults with
                {
                    Devices = [.. devices.Select(d => d.ToString())],
                    Epochs = parse.GetValue(epochs) ?? defaults.Epochs,
                    BatchSize = parse.GetValue(batch) ?? defaults.BatchSize,
                    LearningRate = parse.GetValue(lr) ?? defaults.LearningRate,
                    Patience = parse.GetValue(patience) ?? defaults.Patience,
                    MinPatienceSteps = parse.GetValue(minPatienceSteps) ?? defaults.MinPatienceSteps,
                    WarmupSteps = parse.GetValue(warmup) ?? defaults.WarmupSteps,
                    Init = parse.GetValue(init) is { } initName ? ParseInit(initName) : defaults.Init,
                    InputSize = parse.GetValue(inputSize) ?? parentModel?.Manifest.InputSize ?? defaults.InputSize,
                    BaseSize = parse.GetValue(baseSize) ?? defaults.BaseSize,
                    Layout = parse.GetValue(layout),
                    Seed = parse.GetValue(seed),
                    CheckpointEvery = parse.GetValue(checkpointEvery),
                    MaxDuration = parse.GetValue(maxMinutes) is { } minutes ? TimeSpan.FromMinutes(minutes) : null,
                    LimitPerClass = parse.GetValue(limit),
                    PositiveBias = parse.GetValue(positiveBias) ?? defaults.PositiveBias,
                    TorchThreads = parse.GetValue(threads),
                    ParentVersion = parse.GetValue(parent),
                };
            }
            catch (ArgumentException error)
            {
                throw new CliException(error.Message, CliApplication.UsageError);
            }
            try
            {
                options.Validate();
                if (parentModel is not null)
                    FineTuning.RequireCompatible(parentModel, options);
            }
            catch (ArgumentException error)
            {
                throw new CliException(error.Message, CliApplication.UsageError);
            }
            string dataPath = parse.GetValue(data)!;
            if (!Directory.Exists(dataPath))
                throw new CliException($"no data folder {dataPath}", CliApplication.UsageError);
            string runDirectory = parse.GetValue(output)!;
            TextWriter writer = parse.InvocationConfiguration.Output;
            var console = CliConsole.For(writer);

            ImageDataSet dataSet = await ImageDataSet.ListAsync(new FolderImageSource(dataPath), cancellationToken);
            var trainer = new Trainer(options);
            bool resumeRun = parse.GetValue(resume);
            Task<TrainingResult> Train(IProgress<TrainingProgress> progress) => parentModel is null
                ? trainer.RunAsync(dataSet, runDirectory, resumeRun, progress, cancellationToken)
                : trainer.FineTuneAsync(parentModel, dataSet, runDirectory, resumeRun, progress, cancellationToken);
            TrainingResult result;
            try
            {
                result = CliConsole.IsInteractive(writer)
                    ? await TrainWithProgressBarAsync(console, Train)
                    : await Train(new PlainProgress(writer));
            }
            catch (TrainingDivergedException error)
            {
                throw new CliException(error.Message, Diverged);
            }
            catch (InvalidOperationException error)
            {
                throw new CliException(error.Message);
            }
            WriteSummary(console, result, runDirectory);
            return 0;
        });
        return command;
    }

    /// <summary>The package of --from, or exit 2 with why it cannot be used (missing, unreadable, tampered).</summary>
    private static ModelPackage LoadParent(string folder)
    {
        try
        {
            return FineTuning.Load(folder);
        }
        catch (Exception error) when (error is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new CliException(error.Message, CliApplication.UsageError);
        }
    }

    private static WeightInit ParseInit(string name) => name.ToLowerInvariant() switch
    {
        "variance-scaling" => WeightInit.VarianceScaling,
        "paper" => WeightInit.Paper,
        _ => throw new ArgumentException($"--init must be variance-scaling or paper, not '{name}'"),
    };

    private static async Task<TrainingResult> TrainWithProgressBarAsync(IAnsiConsole console, Func<IProgress<TrainingProgress>, Task<TrainingResult>> train)
    {
        TrainingResult? result = null;
        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                ProgressTask task = context.AddTask("loading", maxValue: 1);
                var progress = new Callback(p =>
                {
                    if (p.Phase == TrainingPhase.Training)
                    {
                        task.MaxValue = Math.Max(1, p.StepsPerEpoch);
                        task.Value = p.Step;
                        task.Description = Markup.Escape(
                            $"epoch {p.Epoch}/{p.Epochs}  batch {p.Step}/{p.StepsPerEpoch}  loss {p.Loss:F4}  {p.ImagesPerSecond:F0} img/s  ETA {Format(p.Remaining)}");
                    }
                    else if (p.Message?.StartsWith("epoch ", StringComparison.Ordinal) == true)
                    {
                        console.WriteLine(p.Message);
                    }
                    else
                    {
                        task.Description = Markup.Escape(p.Message is null ? $"{p.Phase.ToString().ToLowerInvariant()} (epoch {p.Epoch})" : p.Message);
                    }
                });
                result = await train(progress);
                task.Description = $"done: {result.Outcome}, {result.CompletedEpochs} epochs";
                task.Value = task.MaxValue;
            });
        return result!;
    }

    private static void WriteSummary(IAnsiConsole console, TrainingResult result, string runDirectory)
    {
        var table = new Table().Title($"Training {result.Outcome}: model {Markup.Escape(result.Version)}")
            .AddColumn("").AddColumn(new TableColumn("value").RightAligned());
        EpochMetrics? last = result.History.Count > 0 ? result.History[^1] : null;
        table.AddRow("epochs completed", result.CompletedEpochs.ToString(CultureInfo.InvariantCulture));
        if (result.ResumedAtEpoch > 1 || result.ResumedAtStep > 0)
            table.AddRow("resumed at", $"epoch {result.ResumedAtEpoch}, step {result.ResumedAtStep}");
        if (result.FineTunedFrom is { } lineage)
            table.AddRow("fine-tuned from", Markup.Escape($"{lineage.Version} ({(lineage.HeadReinitialized ? "fc8 drawn afresh for the new classes" : "every layer")})"));
        table.AddRow("training / validation images", $"{result.TrainImages} / {result.ValidationImages}");
        if (result.RejectedImages > 0)
            table.AddRow("rejected images", result.RejectedImages.ToString(CultureInfo.InvariantCulture));
        if (result.BestEpoch is { } bestEpoch)
            table.AddRow("model's weights from epoch", $"{bestEpoch} (best validation top-1 error)");
        table.AddRow("validation top-1 error", $"{result.FinalValidation.Top1Error:P2}");
        table.AddRow("validation top-5 error", $"{result.FinalValidation.Top5Error:P2}");
        table.AddRow("validation loss", $"{result.FinalValidation.Loss:F4}");
        if (last is not null)
        {
            table.AddRow("last epoch train loss", $"{last.TrainLoss:F4}");
            table.AddRow("last epoch learning rate", $"{last.LearningRate:G3}");
            table.AddRow("last epoch training img/s", $"{last.ImagesPerSecond:F1}");
        }
        table.AddRow("model", Markup.Escape(result.ModelDirectory));
        table.AddRow("metrics and plots", Markup.Escape(Path.GetFullPath(runDirectory)));
        console.Write(table);
    }

    private static string Format(TimeSpan? span) =>
        span is { } s ? (s.TotalHours >= 1 ? $"{(int)s.TotalHours}h{s.Minutes:D2}m" : $"{s.Minutes}m{s.Seconds:D2}s") : "-";

    /// <summary>Calls back on the reporting thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    private sealed class Callback(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    /// <summary>Plain lines for logs: phase changes, about ten lines an epoch, and the end of every epoch.</summary>
    private sealed class PlainProgress(TextWriter output) : IProgress<TrainingProgress>
    {
        private TrainingPhase? lastPhase;

        public void Report(TrainingProgress p)
        {
            bool phaseChanged = p.Phase != lastPhase;
            lastPhase = p.Phase;
            if (p.Phase != TrainingPhase.Training)
            {
                if (phaseChanged || p.Message is not null)
                    output.WriteLine(p.Message ?? $"{p.Phase.ToString().ToLowerInvariant()} (epoch {p.Epoch})");
                return;
            }
            int every = Math.Max(1, p.StepsPerEpoch / 10);
            if (p.Step % every == 0 || p.Step == p.StepsPerEpoch)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"epoch {p.Epoch}/{p.Epochs} batch {p.Step}/{p.StepsPerEpoch} loss {p.Loss:F4} {p.ImagesPerSecond:F0} img/s elapsed {Format(p.Elapsed)} ETA {Format(p.Remaining)}"));
                output.Flush();
            }
        }
    }
}
