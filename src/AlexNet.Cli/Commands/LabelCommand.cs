using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AlexNet.Imaging;
using AlexNet.Model.Inference;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;

namespace AlexNet.Cli.Commands;

/// <summary><c>alexnet label</c>: bulk top-5 labeling of a folder into the storage layout of a folder.</summary>
public static class LabelCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Model package folder (manifest.json and its weights file).", Required = true };
        var input = new Option<DirectoryInfo>("--input") { Description = "Folder of images (searched recursively).", Required = true };
        var output = new Option<DirectoryInfo>("--output") { Description = "Output root: labels/<batch>/ and rejected/<batch>/ are written under it.", Required = true };
        var batchId = new Option<string>("--batch-id") { Description = "Batch id (default: the input folder's name)." };
        var batchSize = new Option<int>("--batch-size") { Description = "Images per forward pass.", DefaultValueFactory = _ => 64 };
        var tenCrop = new Option<bool>("--ten-crop") { Description = "Average the softmax of the paper's ten crops instead of one centre crop." };
        var minConfidence = new Option<double>("--min-confidence") { Description = "Top-1 probability below which an image goes to review.jsonl.", DefaultValueFactory = _ => 0.5 };
        var layout = new Option<AlexNetLayout?>("--layout") { Description = "Run the network Grouped or TwoTower (default: as trained)." };
        var json = new Option<bool>("--json") { Description = "Print the batch summary as JSON." };

        var command = new Command("label", "Label every image of a folder with its top-5 classes.\n\nExample:\n  alexnet label --model runs/demo/model --input photos --output out")
        {
            model, input, output, batchId, batchSize, tenCrop, minConfidence, layout, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new LabelingOptions
            {
                BatchSize = Positive(parse.GetValue(batchSize), "--batch-size"),
                CropMode = parse.GetValue(tenCrop) ? CropMode.TenCrop : CropMode.Center,
                MinConfidence = Probability(parse.GetValue(minConfidence), "--min-confidence"),
            };
            DirectoryInfo inputFolder = parse.GetValue(input)!;
            if (!inputFolder.Exists)
                throw new CliException($"input folder {inputFolder.FullName} does not exist", CliApplication.UsageError);
            string batch = parse.GetValue(batchId) ?? inputFolder.Name;
            ValidateBatch(batch);

            using var classifier = LoadClassifier(parse.GetValue(model)!, parse.GetValue(layout));
            var store = new LocalFolderBlobStore(parse.GetValue(output)!.FullName);
            var outcome = await LabelRun.RunAsync(classifier, store, new FolderImageSource(inputFolder.FullName), batch, options, parse.InvocationConfiguration.Output, cancellationToken);

            TextWriter writer = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
                writer.WriteLine(JsonSerializer.Serialize(outcome.Summary, LabelJsonContext.Default.BatchSummary));
            else
                LabelRun.WriteSummary(CliConsole.For(writer), outcome, Path.Combine(parse.GetValue(output)!.FullName, LabelPaths.LabelsContainer, batch));
            return outcome.Run.Statistics.Failed > 0 ? CliApplication.Failure : 0;
        });
        return command;
    }

    /// <summary>A package folder named by <c>--model</c>; a missing, malformed or tampered one is a bad argument (exit 2).</summary>
    internal static ModelPackage LoadModel(DirectoryInfo folder)
    {
        if (!File.Exists(Path.Combine(folder.FullName, ModelPackage.ManifestFileName)))
            throw new CliException($"{folder.FullName} is not a model package (no {ModelPackage.ManifestFileName})", CliApplication.UsageError);
        try
        {
            return ModelPackage.LoadDirectory(folder.FullName);
        }
        catch (Exception error) when (error is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new CliException($"model {folder.FullName} cannot be used: {error.Message}", CliApplication.UsageError);
        }
    }

    /// <summary>The package's network, built from its weights file; weights that do not parse are a bad argument too.</summary>
    internal static Classifier LoadClassifier(DirectoryInfo folder, AlexNetLayout? layout)
    {
        ModelPackage package = LoadModel(folder);
        try
        {
            return new Classifier(package, layout);
        }
        catch (InvalidDataException error)
        {
            throw new CliException($"model {folder.FullName} cannot be used: {error.Message}", CliApplication.UsageError);
        }
    }

    internal static int Positive(int value, string name) =>
        value >= 1 ? value : throw new CliException($"{name} must be at least 1", CliApplication.UsageError);

    private static double Probability(double value, string name) =>
        value is >= 0 and <= 1 ? value : throw new CliException($"{name} must be between 0 and 1", CliApplication.UsageError);

    internal static void ValidateBatch(string batch)
    {
        try
        {
            LabelPaths.ValidateBatch(batch);
        }
        catch (ArgumentException error)
        {
            throw new CliException(error.Message.Split(" (Parameter", 2)[0], CliApplication.UsageError);
        }
    }
}

/// <summary>A labeling run with a progress display, followed by the batch report.</summary>
internal static class LabelRun
{
    public sealed record Outcome(LabelRunResult Run, BatchSummary Summary);

    public static async Task<Outcome> RunAsync(
        Classifier classifier, IBlobStore store, IImageSource source, string batch, LabelingOptions options, TextWriter output, CancellationToken cancellationToken, bool quiet = false)
    {
        var engine = new LabelingEngine(classifier, store, new ImageDecoder(ImageLimits.Default), options, TimeProvider.System, NullLogger<LabelingEngine>.Instance);
        int total = await source.ListAsync(cancellationToken).CountAsync(cancellationToken);
        LabelRunResult run;
        if (quiet)
        {
            run = await engine.RunAsync(batch, source, cancellationToken: cancellationToken);
        }
        else if (CliConsole.IsInteractive(output))
        {
            run = await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask($"labeling {batch}", maxValue: Math.Max(1, total));
                    var progress = new Progress<LabelProgress>(p =>
                    {
                        task.Value = p.Seen;
                        double rate = p.Elapsed.TotalSeconds > 0 ? p.Labeled / p.Elapsed.TotalSeconds : 0;
                        task.Description = $"labeling {batch}: {p.Seen}/{total}, {rate:F0} img/s, {p.Rejected} rejected";
                    });
                    return await engine.RunAsync(batch, source, progress: progress, cancellationToken: cancellationToken);
                });
        }
        else
        {
            long lastLine = 0;
            var progress = new SynchronousProgress<LabelProgress>(p =>
            {
                long now = Environment.TickCount64;
                if (now - Interlocked.Read(ref lastLine) < 5000 && p.Seen < total)
                    return;
                Interlocked.Exchange(ref lastLine, now);
                double rate = p.Elapsed.TotalSeconds > 0 ? p.Labeled / p.Elapsed.TotalSeconds : 0;
                lock (output)
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"labeling {batch}: {p.Seen}/{total} images, {rate:F1} img/s, {p.Rejected} rejected, {p.AlreadyLabeled} already labeled"));
            });
            run = await engine.RunAsync(batch, source, progress: progress, cancellationToken: cancellationToken);
        }

        var summary = await new BatchReport(store, TimeProvider.System).WriteAsync(batch, options.MinConfidence, run.Statistics, cancellationToken);
        return new Outcome(run, summary);
    }

    public static void WriteSummary(IAnsiConsole console, Outcome outcome, string where)
    {
        var s = outcome.Run.Statistics;
        var table = new Table().Title($"batch {outcome.Summary.Batch}").AddColumn("").AddColumn(new TableColumn("").RightAligned()).HideHeaders();
        table.AddRow("images seen this run", s.Seen.ToString(CultureInfo.InvariantCulture));
        table.AddRow("labeled now", s.Labeled.ToString(CultureInfo.InvariantCulture));
        table.AddRow("already labeled (same image, same model)", s.AlreadyLabeled.ToString(CultureInfo.InvariantCulture));
        table.AddRow("rejected", s.Rejected.ToString(CultureInfo.InvariantCulture));
        table.AddRow("vanished (deleted or replaced while the run went on)", s.Vanished.ToString(CultureInfo.InvariantCulture));
        table.AddRow("failed", s.Failed.ToString(CultureInfo.InvariantCulture));
        table.AddRow("throughput", string.Create(CultureInfo.InvariantCulture, $"{s.ImagesPerSecond:F1} img/s over {s.Seconds:F1} s"));
        table.AddRow("batch total: labeled / rejected / to review",
            string.Create(CultureInfo.InvariantCulture, $"{outcome.Summary.Labeled} / {outcome.Summary.Rejected} / {outcome.Summary.NeedsReview}"));
        string top = string.Join(", ", outcome.Summary.Top1Distribution.Take(5).Select(p => $"{p.Key} {p.Value}"));
        table.AddRow("most frequent top-1", Markup.Escape(top.Length > 0 ? top : "-"));
        console.Write(table);
        foreach (var failed in outcome.Run.Items.Where(i => i.Outcome == LabelOutcome.Failed).Take(5))
            console.MarkupLine($"[red]failed[/] {Markup.Escape(failed.Image.Path)}: {Markup.Escape(failed.Detail ?? "")}");
        console.WriteLine($"labels: {where}");
    }
}

/// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool out of order).</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
