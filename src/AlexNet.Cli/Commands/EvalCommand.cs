using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AlexNet.Model.Data;
using AlexNet.Model.Evaluation;
using AlexNet.Model.Inference;
using AlexNet.Model.Packaging;
using Spectre.Console;

namespace AlexNet.Cli.Commands;

/// <summary><c>alexnet eval</c>: top-1/top-5 error, per-class accuracy and confusion matrix of a model on labeled images.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model package folder (manifest.json + weights.safetensors).", Required = true };
        var data = new Option<string>("--data") { Description = "Labeled images: <data>/<class>/<image>.", Required = true };
        var tenCrop = new Option<bool>("--ten-crop") { Description = "Also score the paper's 10 crops (corners, centre, reflections)." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of tables." };
        var batch = new Option<int>("--batch") { Description = "Images per forward pass.", DefaultValueFactory = _ => Evaluator.DefaultBatchSize };
        var command = new Command("eval",
            "Evaluate a model package on labeled images: top-1 and top-5 error, per-class accuracy, confusion matrix.\n\n" +
            "Example:\n  alexnet eval --model runs/fmnist/model --data data/fashion-mnist/test --ten-crop")
        {
            model, data, tenCrop, json, batch,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            int batchSize = parse.GetValue(batch);
            if (batchSize < 1)
                throw new CliException("--batch must be at least 1", CliApplication.UsageError);
            string modelPath = parse.GetValue(model)!;
            string dataPath = parse.GetValue(data)!;
            if (!Directory.Exists(dataPath))
                throw new CliException($"no data folder {dataPath}", CliApplication.UsageError);
            ModelPackage package = LabelCommand.LoadModel(new DirectoryInfo(modelPath));
            ImageDataSet dataSet = await ImageDataSet.ListAsync(new FolderImageSource(dataPath), cancellationToken);
            if (dataSet.Items.Count == 0)
                throw new CliException($"no images in {dataPath}");
            CropMode[] modes = parse.GetValue(tenCrop) ? [CropMode.Center, CropMode.TenCrop] : [CropMode.Center];
            IReadOnlyList<EvaluationReport> reports = await Evaluator.EvaluateAsync(package, dataSet, modes, batchSize, cancellationToken: cancellationToken);

            TextWriter output = parse.InvocationConfiguration.Output;
            var result = new EvalResult(package.Manifest.Version, Path.GetFullPath(dataPath), reports);
            if (parse.GetValue(json))
                output.WriteLine(JsonSerializer.Serialize(result, EvalJsonContext.Default.EvalResult));
            else
                WriteTables(CliConsole.For(output), result);
            return 0;
        });
        return command;
    }

    private static void WriteTables(IAnsiConsole console, EvalResult result)
    {
        EvaluationReport first = result.Reports[0];
        var summary = new Table().Title($"Model {Markup.Escape(result.Model)} on {first.Images} images")
            .AddColumn("crops").AddColumn(new TableColumn("top-1 error").RightAligned()).AddColumn(new TableColumn("top-5 error").RightAligned())
            .AddColumn(new TableColumn("top-1 accuracy").RightAligned()).AddColumn(new TableColumn("loss").RightAligned());
        foreach (EvaluationReport report in result.Reports)
            summary.AddRow(report.CropMode, $"{report.Top1Error:P2}", $"{report.Top5Error:P2}", $"{report.Top1Accuracy:P2}", $"{report.Loss:F4}");
        console.Write(summary);

        var perClass = new Table().Title("Per-class top-1 accuracy").AddColumn("class").AddColumn(new TableColumn("images").RightAligned());
        foreach (EvaluationReport report in result.Reports)
            perClass.AddColumn(new TableColumn(report.CropMode).RightAligned());
        for (int c = 0; c < first.Classes.Count; c++)
        {
            perClass.AddRow([Markup.Escape(first.Classes[c]), first.PerClass[c].Images.ToString(CultureInfo.InvariantCulture),
                .. result.Reports.Select(r => $"{r.PerClass[c].Accuracy:P1}")]);
        }
        console.Write(perClass);

        var confusion = new Table().Title($"Confusion matrix ({first.CropMode}; rows true, columns predicted)").AddColumn("true \\ predicted");
        for (int c = 0; c < first.Classes.Count; c++)
            confusion.AddColumn(new TableColumn(c.ToString(CultureInfo.InvariantCulture)).RightAligned());
        for (int t = 0; t < first.Classes.Count; t++)
        {
            confusion.AddRow([$"{t} {Markup.Escape(first.Classes[t])}",
                .. first.ConfusionMatrix[t].Select(v => v.ToString(CultureInfo.InvariantCulture))]);
        }
        console.Write(confusion);
    }
}

public sealed record EvalResult(string Model, string Data, IReadOnlyList<EvaluationReport> Reports);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(EvalResult))]
internal sealed partial class EvalJsonContext : JsonSerializerContext;
