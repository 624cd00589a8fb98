using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AlexNet.Imaging;
using AlexNet.Model.Inference;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Storage;
using SkiaSharp;
using Spectre.Console;
using static TorchSharp.torch;

namespace AlexNet.Cli.Commands;

/// <summary>
/// <c>alexnet bench</c>: the bare forward pass against end-to-end labeling of real files (read, decode, forward,
/// write records) at the same batch and input size, side by side in one process, plus resident memory over the
/// end-to-end run.
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo?>("--model") { Description = "Model package; default: the paper's network with random weights." };
        var classes = new Option<int>("--classes") { Description = "Classes of the random-weight network.", DefaultValueFactory = _ => 1000 };
        var inputSize = new Option<int>("--input-size") { Description = "Input crop of the random-weight network.", DefaultValueFactory = _ => 224 };
        var baseSize = new Option<int>("--base-size") { Description = "Base image side (default: input size x 256/224)." };
        var layout = new Option<AlexNetLayout?>("--layout") { Description = "Grouped or TwoTower." };
        var batchSize = new Option<int>("--batch-size") { Description = "Images per forward pass.", DefaultValueFactory = _ => 64 };
        var images = new Option<DirectoryInfo?>("--images") { Description = "Folder of images for the end-to-end run; default: generated JPEGs." };
        var count = new Option<int>("--count") { Description = "Generated JPEGs when --images is not given.", DefaultValueFactory = _ => 256 };
        var repeat = new Option<int>("--repeat") { Description = "End-to-end passes over the images (each a new batch), e.g. for a memory run.", DefaultValueFactory = _ => 1 };
        var forwardBatches = new Option<int>("--forward-batches") { Description = "Timed batches of the bare forward pass.", DefaultValueFactory = _ => 8 };
        var tenCrop = new Option<bool>("--ten-crop") { Description = "Ten crops per image instead of the centre crop." };
        var json = new Option<bool>("--json") { Description = "Print JSON." };
        var networkOnly = new Option<bool>("--network-only") { Description = "Time the network alone (forward and SGD training steps on random data on the device), as the PyTorch reference in scripts/gpu/ does." };
        var device = new Option<string>("--device") { Description = "cpu, cuda (two GPUs: two towers), or devices such as cuda:0,cuda:1 (network-only mode).", DefaultValueFactory = _ => "cpu" };
        var precision = new Option<string>("--precision") { Description = "fp32, fp16 or bf16 (network-only mode).", DefaultValueFactory = _ => "fp32" };
        var tf32 = new Option<bool>("--tf32") { Description = "Allow TF32 matmul and convolutions on CUDA (network-only mode)." };

        var command = new Command("bench", "Measure bare forward img/s, end-to-end labeling img/s and their ratio.\n\nExample:\n  alexnet bench --input-size 64 --classes 10 --batch-size 64 --count 512")
        {
            model, classes, inputSize, baseSize, layout, batchSize, images, count, repeat, forwardBatches, tenCrop, json,
            networkOnly, device, precision, tf32,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            int batch = LabelCommand.Positive(parse.GetValue(batchSize), "--batch-size");
            int passes = LabelCommand.Positive(parse.GetValue(repeat), "--repeat");
            int timedBatches = LabelCommand.Positive(parse.GetValue(forwardBatches), "--forward-batches");
            var crop = parse.GetValue(tenCrop) ? CropMode.TenCrop : CropMode.Center;
            if (parse.GetValue(networkOnly))
            {
                var options = new AlexNetOptions { Classes = parse.GetValue(classes), InputSize = parse.GetValue(inputSize), Layout = parse.GetValue(layout) ?? AlexNetLayout.Grouped, Seed = 1 };
                var devices = NetworkBench.ParseDevices(parse.GetValue(device)!);
                if (devices.Count > 1 && parse.GetValue(layout) is null)
                    options = options with { Layout = AlexNetLayout.TwoTower };
                var result = NetworkBench.Run(options, devices, parse.GetValue(precision)!, batch, timedBatches, parse.GetValue(tf32));
                TextWriter text = parse.InvocationConfiguration.Output;
                text.WriteLine(parse.GetValue(json)
                    ? JsonSerializer.Serialize(result, BenchJsonContext.Default.Result)
                    : string.Create(CultureInfo.InvariantCulture, $"{result.Device} {result.Precision} batch {result.Batch}: forward {result.ForwardImagesPerSecond:F1} img/s, training {result.TrainImagesPerSecond:F1} img/s"));
                return 0;
            }
            ModelPackage package = parse.GetValue(model) is { } folder
                ? LabelCommand.LoadModel(folder)
                : RandomPackage(parse.GetValue(classes), parse.GetValue(inputSize), parse.GetValue(baseSize));
            using var classifier = new Classifier(package, parse.GetValue(layout));

            string work = Path.Combine(Path.GetTempPath(), $"alexnet-bench-{Guid.NewGuid():N}");
            try
            {
                string imageFolder = parse.GetValue(images)?.FullName ?? GenerateJpegs(Path.Combine(work, "images"), LabelCommand.Positive(parse.GetValue(count), "--count"));
                double forward = ForwardImagesPerSecond(classifier, batch, timedBatches, crop);
                var (endToEnd, labeled, memory) = await EndToEndAsync(classifier, imageFolder, Path.Combine(work, "out"), batch, crop, passes, cancellationToken);
                var report = new BenchReport(
                    Environment.ProcessorCount, RuntimeInformationText(), package.Manifest.InputSize, package.Manifest.BaseSize, batch,
                    classifier.Options.Layout.ToString(), crop.ToString(), forward, endToEnd, endToEnd / forward, labeled, passes,
                    memory.WarmMiB, memory.EndMiB, memory.GrowthPercent, DateTimeOffset.UtcNow);
                Write(parse.InvocationConfiguration.Output, report, parse.GetValue(json));
            }
            finally
            {
                if (Directory.Exists(work))
                    Directory.Delete(work, recursive: true);
            }
            return 0;
        });
        return command;
    }

    private static ModelPackage RandomPackage(int classes, int inputSize, int baseSize)
    {
        if (baseSize == 0)
            baseSize = (int)Math.Round(inputSize * 256.0 / 224.0);
        var options = new AlexNetOptions { Classes = classes, InputSize = inputSize, Seed = 1 };
        try
        {
            options.Validate();
        }
        catch (ArgumentOutOfRangeException error)
        {
            throw new CliException(error.Message.Split(" (Parameter", 2)[0], CliApplication.UsageError);
        }
        if (baseSize < inputSize)
            throw new CliException("--base-size must be at least --input-size", CliApplication.UsageError);
        using var network = AlexNetFactory.Create(options);
        return ModelPackage.Create(new ModelManifest
        {
            Version = "bench-random",
            Classes = Enumerable.Range(0, classes).Select(i => $"class-{i}").ToArray(),
            InputSize = inputSize,
            BaseSize = baseSize,
            Mean = [124f, 116f, 104f],
            WeightsSha256 = "pending",
            CreatedAt = DateTimeOffset.UtcNow,
        }, network);
    }

    /// <summary>Forward, softmax and top-5 on batches already in memory: the bound the pipeline can reach.</summary>
    private static double ForwardImagesPerSecond(Classifier classifier, int batch, int timedBatches, CropMode crop)
    {
        int side = classifier.Manifest.BaseSize;
        var random = new Random(1);
        var images = Enumerable.Range(0, batch).Select(_ =>
        {
            var bytes = new byte[side * side * 3];
            random.NextBytes(bytes);
            return (ReadOnlyMemory<byte>)bytes;
        }).ToArray();
        using var packed = ImageTensors.Pack(images, side);
        for (int i = 0; i < 2; i++)
            classifier.Classify(packed, crop);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < timedBatches; i++)
            classifier.Classify(packed, crop);
        return batch * timedBatches / clock.Elapsed.TotalSeconds;
    }

    private sealed record Memory(double WarmMiB, double EndMiB, double GrowthPercent);

    private static async Task<(double ImagesPerSecond, int Labeled, Memory Memory)> EndToEndAsync(
        Classifier classifier, string images, string output, int batch, CropMode crop, int passes, CancellationToken cancellationToken)
    {
        var store = new LocalFolderBlobStore(output);
        var options = new LabelingOptions { BatchSize = batch, CropMode = crop };
        int labeled = 0;
        double seconds = 0;
        var samples = new List<double>();
        using var sampler = new Timer(_ =>
        {
            using var process = Process.GetCurrentProcess();
            lock (samples)
                samples.Add(process.WorkingSet64 / 1048576.0);
        }, null, TimeSpan.Zero, TimeSpan.FromMilliseconds(500));

        for (int pass = 0; pass < passes; pass++)
        {
            var outcome = await LabelRun.RunAsync(classifier, store, new FolderImageSource(images), $"bench-{pass}", options, TextWriter.Null, cancellationToken, quiet: true);
            if (outcome.Run.Statistics.Failed > 0)
                throw new CliException($"{outcome.Run.Statistics.Failed} images failed during the benchmark: {outcome.Run.Items.First(i => i.Outcome == LabelOutcome.Failed).Detail}");
            labeled += outcome.Run.Statistics.Labeled;
            seconds += outcome.Run.Statistics.Seconds;
        }

        double[] rss;
        lock (samples)
            rss = [.. samples];
        // Warm-up is the first tenth of the run: model loaded, pools and caches filled.
        double warm = rss.Skip(Math.Max(1, rss.Length / 10)).Take(Math.Max(1, rss.Length / 10)).DefaultIfEmpty(rss.LastOrDefault()).Max();
        double end = rss.Skip(rss.Length - Math.Max(1, rss.Length / 10)).DefaultIfEmpty(warm).Max();
        return (labeled / seconds, labeled, new Memory(warm, end, warm > 0 ? (end - warm) / warm * 100 : 0));
    }

    /// <summary>Photo-like JPEGs (gradients and shapes, 500x375, quality 90), deterministic.</summary>
    internal static string GenerateJpegs(string folder, int count)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(42);
        for (int i = 0; i < count; i++)
        {
            using var bitmap = new SKBitmap(500, 375);
            using (var canvas = new SKCanvas(bitmap))
            {
                using var shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(500, 375),
                    [new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)), new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256))],
                    SKShaderTileMode.Clamp);
                using var background = new SKPaint { Shader = shader };
                canvas.DrawRect(0, 0, 500, 375, background);
                using var paint = new SKPaint { IsAntialias = true };
                for (int s = 0; s < 12; s++)
                {
                    paint.Color = new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256), 200);
                    canvas.DrawCircle(random.Next(500), random.Next(375), random.Next(10, 90), paint);
                }
            }
            using var image = SKImage.FromBitmap(bitmap);
            using var data = image.Encode(SKEncodedImageFormat.Jpeg, 90);
            File.WriteAllBytes(Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"img-{i:D5}.jpg")), data.ToArray());
        }
        return folder;
    }

    private static string RuntimeInformationText() =>
        $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription}, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, torch threads {get_num_threads()}";

    private static void Write(TextWriter output, BenchReport report, bool json)
    {
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(report, BenchJsonContext.Default.BenchReport));
            return;
        }
        var console = CliConsole.For(output);
        var table = new Table().Title($"alexnet bench: {report.Layout}, input {report.InputSize} (base {report.BaseSize}), batch {report.BatchSize}, {report.CropMode}")
            .AddColumn("measure").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("bare forward (in-memory batches)", F(report.ForwardImagesPerSecond) + " img/s");
        table.AddRow("end-to-end labeling (read, decode, forward, write)", F(report.EndToEndImagesPerSecond) + " img/s");
        table.AddRow("ratio end-to-end / forward (target >= 0.90)", report.Ratio.ToString("F3", CultureInfo.InvariantCulture));
        table.AddRow("images labeled end-to-end", $"{report.ImagesLabeled} ({report.Passes} pass(es))");
        table.AddRow("resident memory after warm-up / at end", $"{F(report.RssWarmMiB)} / {F(report.RssEndMiB)} MiB ({report.RssGrowthPercent.ToString("+0.0;-0.0", CultureInfo.InvariantCulture)}%)");
        table.AddRow("machine", Markup.Escape($"{report.Cores} cores, {report.Runtime}"));
        console.Write(table);
    }

    private static string F(double value) => value.ToString("F1", CultureInfo.InvariantCulture);
}

public sealed record BenchReport(
    int Cores, string Runtime, int InputSize, int BaseSize, int BatchSize, string Layout, string CropMode,
    double ForwardImagesPerSecond, double EndToEndImagesPerSecond, double Ratio, int ImagesLabeled, int Passes,
    double RssWarmMiB, double RssEndMiB, double RssGrowthPercent, DateTimeOffset MeasuredAt);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(BenchReport))]
[JsonSerializable(typeof(NetworkBench.Result))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
