using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AlexNet.Model.Network;
using Spectre.Console;

namespace AlexNet.Cli.Commands;

/// <summary><c>alexnet info</c>: the architecture as a table, the parameter count and memory estimates.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var classes = new Option<int>("--classes") { Description = "Number of output classes.", DefaultValueFactory = _ => 1000 };
        var inputSize = new Option<int>("--input-size") { Description = "Side of the square input crop (at least 63).", DefaultValueFactory = _ => 224 };
        var layout = new Option<AlexNetLayout>("--layout") { Description = "Grouped (one device) or TwoTower (two devices, as the paper).", DefaultValueFactory = _ => AlexNetLayout.Grouped };
        var batch = new Option<int>("--batch") { Description = "Batch size for the training memory estimate.", DefaultValueFactory = _ => 128 };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var model = new Option<DirectoryInfo?>("--model") { Description = "Describe a model package's network (its classes, input size and settings such as an imported Caffe model's) instead." };

        var command = new Command("info", "Show the network's layers, parameter count and memory estimates.\n\nExample:\n  alexnet info --classes 10 --input-size 64 --layout TwoTower")
        {
            classes, inputSize, layout, batch, json, model,
        };
        command.SetAction(parse =>
        {
            var options = parse.GetValue(model) is { } folder
                ? LabelCommand.LoadModel(folder).Manifest.NetworkOptions()
                : new AlexNetOptions
                {
                    Classes = parse.GetValue(classes),
                    InputSize = parse.GetValue(inputSize),
                    Layout = parse.GetValue(layout),
                };
            try
            {
                options.Validate();
            }
            catch (ArgumentOutOfRangeException error)
            {
                throw new CliException(error.Message.Split(" (Parameter", 2)[0], CliApplication.UsageError);
            }
            int batchSize = parse.GetValue(batch);
            if (batchSize < 1)
                throw new CliException("--batch must be at least 1", CliApplication.UsageError);

            var report = InfoReport.For(options, batchSize);
            TextWriter output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
                output.WriteLine(JsonSerializer.Serialize(report, InfoJsonContext.Default.InfoReport));
            else
                WriteTable(report, output);
            return 0;
        });
        return command;
    }

    private static void WriteTable(InfoReport report, TextWriter output)
    {
        var console = CliConsole.For(output);
        var table = new Table().Title($"AlexNet (Krizhevsky et al. 2012), {report.Layout}, {report.Classes} classes, {report.InputSize}x{report.InputSize} input")
            .AddColumn("layer").AddColumn("operation").AddColumn(new TableColumn("output").RightAligned())
            .AddColumn(new TableColumn("parameters").RightAligned()).AddColumn("kernels / units").AddColumn("input from");
        foreach (var layer in report.Layers)
        {
            table.AddRow(layer.Name, Markup.Escape(layer.Operation), string.Join("x", layer.OutputShape),
                layer.Parameters.ToString("N0", CultureInfo.InvariantCulture), Markup.Escape(layer.Placement), layer.ConnectsTo);
        }
        console.Write(table);
        console.WriteLine($"total parameters: {report.Parameters.ToString("N0", CultureInfo.InvariantCulture)}");
        console.WriteLine($"weights (fp32): {Megabytes(report.WeightBytes)}");
        console.WriteLine($"activations per image (forward, fp32): {Megabytes(report.ActivationBytesPerImage)}");
        console.WriteLine($"training memory at batch {report.TrainingBatch} (weights, gradients, momentum, activations): {Megabytes(report.TrainingBytes)}");
    }

    private static string Megabytes(long bytes) => $"{bytes / 1048576.0:F1} MiB";
}

public sealed record InfoReport(
    string Layout, int Classes, int InputSize, long Parameters, long WeightBytes, long ActivationBytesPerImage,
    int TrainingBatch, long TrainingBytes, IReadOnlyList<LayerSpec> Layers)
{
    public static InfoReport For(AlexNetOptions options, int batch) => new(
        options.Layout.ToString(), options.Classes, options.InputSize,
        AlexNetArchitecture.ParameterCount(options), AlexNetArchitecture.WeightBytes(options),
        AlexNetArchitecture.ActivationBytesPerImage(options), batch, AlexNetArchitecture.TrainingBytes(options, batch),
        AlexNetArchitecture.Layers(options));
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(InfoReport))]
internal sealed partial class InfoJsonContext : JsonSerializerContext;
