using System.CommandLine;
using System.Diagnostics;
using AlexNet.Model.Interchange;
using AlexNet.Model.Packaging;

namespace AlexNet.Cli.Commands;

/// <summary><c>alexnet import-weights</c>: Caffe's bvlc_alexnet or the ONNX model zoo's bvlcalexnet as a model package.</summary>
public static class ImportWeightsCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A .caffemodel (Caffe NetParameter, layer or V1 layers) or an .onnx file of the 2012 network." };
        var format = new Option<string?>("--format")
        {
            Description = "caffe or onnx; by default the file's extension says, else its first bytes.",
        };
        format.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string?>();
            if (value is not (null or "caffe" or "onnx"))
                result.AddError($"--format must be caffe or onnx, not '{value}'");
        });
        var output = new Option<string>("--out") { Description = "Model package folder to write (manifest.json + weights.safetensors).", Required = true };
        var version = new Option<string?>("--version")
        {
            Description = "The package's version; by default bvlc-alexnet-caffe- or bvlcalexnet-onnx- and 12 hex digits of the file's SHA-256.",
        };
        var command = new Command("import-weights",
            "Import pretrained AlexNet weights (Caffe's bvlc_alexnet, the ONNX model zoo's bvlcalexnet) as a model package with ImageNet's " +
            "1,000 class names. The manifest records how that network computes (conv1 unpadded, ceil pooling, Caffe's LRN, BGR input, " +
            "Caffe's mean), so `alexnet label` reproduces it and `alexnet train --from` fine-tunes it.\n\n" +
            "Example:\n  alexnet import-weights bvlc_alexnet.caffemodel --out models/bvlc-alexnet")
        {
            file, format, output, version,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            string path = parse.GetValue(file)!;
            string outPath = Path.GetFullPath(parse.GetValue(output)!);
            if (!File.Exists(path))
                throw new CliException($"no file {path}", CliApplication.UsageError);
            if (File.Exists(outPath))
                throw new CliException($"--out {outPath} is a file; name the package folder to write", CliApplication.UsageError);
            if (Directory.Exists(outPath) && Directory.EnumerateFileSystemEntries(outPath).Any())
                throw new CliException($"--out {outPath} is not empty; name a new folder", CliApplication.UsageError);
            string? versionName = parse.GetValue(version);
            if (versionName is not null && !ModelManifest.IsValidVersion(versionName))
                throw new CliException($"--version '{versionName}' must be 1-{ModelManifest.MaxVersionLength} letters, digits, '-', '_' or '.'", CliApplication.UsageError);
            PretrainedFormat? chosen = parse.GetValue(format) switch
            {
                "caffe" => PretrainedFormat.Caffe,
                "onnx" => PretrainedFormat.Onnx,
                _ => null,
            };

            var clock = Stopwatch.StartNew();
            ModelPackage package;
            try
            {
                package = PretrainedImport.Import(path, chosen, versionName);
            }
            catch (Exception error) when (error is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                throw new CliException($"{path} cannot be imported: {error.Message}", CliApplication.UsageError);
            }
            try
            {
                package.SaveDirectory(outPath);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"--out {outPath} cannot be written: {error.Message}", CliApplication.UsageError);
            }
            ModelManifest manifest = package.Manifest;
            var network = manifest.NetworkOptions();
            parse.InvocationConfiguration.Output.WriteLine(
                $"imported {Path.GetFileName(path)} as model {manifest.Version} ({manifest.Classes.Count} ImageNet classes) into {outPath} in {clock.Elapsed.TotalSeconds:F1} s: " +
                $"input {manifest.InputSize} from base {manifest.BaseSize}, conv1 padding {network.Conv1Padding}, {(network.CeilPooling ? "ceil" : "floor")} pooling, " +
                $"LRN size {network.Lrn.Size} alpha {network.Lrn.Alpha:G} beta {network.Lrn.Beta:G} k {network.Lrn.K:G}{(network.Lrn.AcrossTowers ? " across towers" : "")}, " +
                $"{network.InputChannelOrder.ToString().ToUpperInvariant()} input minus mean (RGB) [{string.Join(", ", manifest.Mean.Select(m => m.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)))}]; weights SHA-256 {manifest.WeightsSha256}");
            return Task.FromResult(0);
        });
        return command;
    }
}
