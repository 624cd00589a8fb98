using System.CommandLine;
using System.Diagnostics;
using AlexNet.Model.Interchange;
using AlexNet.Model.Packaging;

namespace AlexNet.Cli.Commands;

/// <summary><c>alexnet export</c>: a model package as an ONNX graph or a standalone safetensors file, for serving elsewhere.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model package folder (manifest.json + weights file).", Required = true };
        var format = new Option<string>("--format")
        {
            Description = $"onnx: the grouped network as an ONNX graph (opset {OnnxExport.Opset}), classes and preprocessing in its metadata; " +
                "safetensors: the weights under the grouped network's names, classes and preprocessing in __metadata__.",
            Required = true,
        };
        // Not AcceptOnlyFromAmong: its message lists the choices on lines of their own; a bad argument gets one line here.
        format.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string>();
            if (value is not ("onnx" or "safetensors"))
                result.AddError($"--format must be onnx or safetensors, not '{value}'");
        });
        var output = new Option<string>("--out") { Description = "File to write (replaced if it exists).", Required = true };
        var command = new Command("export",
            "Export a model package for other runtimes: ONNX (ONNX Runtime, Triton) or safetensors (PyTorch, Hugging Face tools).\n\n" +
            "Example:\n  alexnet export --model runs/fmnist/model --format onnx --out fmnist.onnx")
        {
            model, format, output,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            string modelPath = parse.GetValue(model)!;
            string outPath = Path.GetFullPath(parse.GetValue(output)!);
            if (!Directory.Exists(modelPath))
                throw new CliException($"no model package folder {modelPath}", CliApplication.UsageError);
            if (Directory.Exists(outPath))
                throw new CliException($"--out {outPath} is a folder; name the file to write", CliApplication.UsageError);
            string? parent = Path.GetDirectoryName(outPath);
            if (parent is not null && File.Exists(parent))
                throw new CliException($"--out {outPath} cannot be written: {parent} is a file", CliApplication.UsageError);

            ModelPackage package = LabelCommand.LoadModel(new DirectoryInfo(modelPath));
            var clock = Stopwatch.StartNew();
            string written;
            try
            {
                if (parse.GetValue(format) == "onnx")
                {
                    OnnxExport.Write(OnnxExport.Export(package), outPath);
                    written = $"ONNX (opset {OnnxExport.Opset}, input '{OnnxExport.InputName}' [N, 3, {package.Manifest.InputSize}, {package.Manifest.InputSize}] RGB 0-255, output '{OnnxExport.OutputName}' [N, {package.Manifest.Classes.Count}])";
                }
                else
                {
                    AtomicFile.Write(outPath, SafetensorsExport.Export(package));
                    written = "safetensors (F32, grouped network names)";
                }
            }
            catch (InvalidDataException error)
            {
                throw new CliException($"model {Path.GetFullPath(modelPath)} cannot be used: {error.Message}", CliApplication.UsageError);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"--out {outPath} cannot be written: {error.Message}", CliApplication.UsageError);
            }
            parse.InvocationConfiguration.Output.WriteLine(
                $"exported model {package.Manifest.Version} ({package.Manifest.Classes.Count} classes, input {package.Manifest.InputSize}) as {written} " +
                $"to {outPath}: {new FileInfo(outPath).Length:N0} bytes in {clock.Elapsed.TotalSeconds:F1} s");
            return Task.FromResult(0);
        });
        return command;
    }
}
