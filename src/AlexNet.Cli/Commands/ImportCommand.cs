using System.CommandLine;
using System.Globalization;
using AlexNet.Model;
using AlexNet.Model.Data;
using AlexNet.Pipeline.Labeling.Interchange;
using AlexNet.Pipeline.Storage;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging.Abstractions;

namespace AlexNet.Cli.Commands;

/// <summary>
/// <c>alexnet import fashion-mnist</c>: IDX files to class folders of PNGs; <c>alexnet import label-studio|cvat</c>: a
/// labeling tool's export into <c>training/&lt;dataset&gt;/&lt;class&gt;/</c> of a storage layout.
/// </summary>
public static class ImportCommand
{
    public static Command Create()
    {
        var source = new Option<string>("--source")
        {
            Description = "Folder with the IDX files (train-images-idx3-ubyte[.gz] ...).",
            DefaultValueFactory = _ => FashionMnistImporter.DebianDirectory,
        };
        var output = new Option<string>("--out") { Description = "Output folder: <out>/train/<class>/ and <out>/test/<class>/.", Required = true };
        var limit = new Option<int?>("--limit-per-class") { Description = "Import at most N images of each class per split." };
        var fashion = new Command("fashion-mnist",
            "Convert Fashion-MNIST (Debian package dataset-fashion-mnist) into class folders of PNG images.\n\n" +
            "Example:\n  alexnet import fashion-mnist --out data/fashion-mnist --limit-per-class 100")
        {
            source, output, limit,
        };
        fashion.SetAction((parse, cancellationToken) =>
        {
            int? perClass = parse.GetValue(limit);
            if (perClass is < 1)
                throw new CliException("--limit-per-class must be at least 1", CliApplication.UsageError);
            string from = parse.GetValue(source)!;
            if (!Directory.Exists(from))
                throw new CliException($"no folder {from} (install the Debian package dataset-fashion-mnist, or pass --source)");
            string to = parse.GetValue(output)!;
            ImportSummary summary = FashionMnistImporter.Import(from, to, perClass, cancellationToken);
            parse.InvocationConfiguration.Output.WriteLine(
                $"imported {summary.Train} training and {summary.Test} test images of {summary.Classes.Count} classes into {Path.GetFullPath(to)}");
            return Task.FromResult(0);
        });
        return new Command("import", "Convert a known data set into class folders (<root>/<class>/<image>), or a labeling tool's export into training data.")
        {
            fashion,
            ToolCommand(AnnotationTools.LabelStudio, "a Label Studio JSON export (Export > JSON) of an image classification project"),
            ToolCommand(AnnotationTools.Cvat, "a CVAT annotations.xml exported as \"CVAT for images 1.1\" (image tags)"),
        };
    }

    private static Command ToolCommand(string tool, string what)
    {
        var export = new Argument<FileInfo>("export") { Description = "The export file." };
        var dataset = new Option<string>("--dataset") { Description = "Training set to add to: training/<dataset>/<class>/.", Required = true };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Storage layout folder to write (as alexnet label writes); or --storage." };
        var storage = new Option<string?>("--storage") { Description = "Storage account connection string to write to instead of --out (e.g. UseDevelopmentStorage=true)." };
        var images = new Option<DirectoryInfo?>("--images") { Description = "Folder with the images the export names (by path, then by file name); without it they are read from the storage." };
        var source = new Option<string?>("--source") { Description = "Where relative image names are found in the storage: <container>/<prefix>, e.g. incoming/shop-2024/." };
        var command = new Command(tool,
            $"Import {what} as training data: every annotated image is copied into training/<dataset>/<class>/, once however often it is imported.\n\n" +
            $"Example:\n  alexnet import {tool} export.{(tool == AnnotationTools.Cvat ? "xml" : "json")} --dataset shop --out data/pipeline --images data/shop-batch")
        {
            export, dataset, output, storage, images, source,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string name = parse.GetValue(dataset)!;
            if (SafeId.Error("dataset", name) is { } badDataset)
                throw new CliException(badDataset, CliApplication.UsageError);
            FileInfo file = parse.GetValue(export)!;
            if (!file.Exists)
                throw new CliException($"no file {file.FullName}", CliApplication.UsageError);
            DirectoryInfo? outFolder = parse.GetValue(output);
            string? connection = parse.GetValue(storage);
            if ((outFolder is null) == (connection is null))
                throw new CliException("give one of --out <folder> or --storage <connection string>", CliApplication.UsageError);

            IReadOnlyList<AnnotatedImage> annotated;
            try
            {
                annotated = AnnotationTools.Read(tool, await File.ReadAllBytesAsync(file.FullName, cancellationToken));
            }
            catch (AnnotationFormatException e)
            {
                throw new CliException($"{file.Name}: {e.Message}", CliApplication.UsageError);
            }

            IBlobStore store = connection is not null
                ? new AzureBlobStore(new BlobServiceClient(connection), NullLogger<AzureBlobStore>.Instance)
                : new LocalFolderBlobStore(outFolder!.FullName);
            IAnnotatedImageSource from = parse.GetValue(images) is { } folder
                ? new FolderAnnotatedImages(folder.FullName)
                : SourceIn(store, parse.GetValue(source));
            AnnotationImportResult result = await new AnnotationImport(store, TimeProvider.System).ImportAsync(tool, annotated, name, from, cancellationToken);

            TextWriter console = parse.InvocationConfiguration.Output;
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"imported {result.Imported} of {result.Images} images into training/{name}/ ({string.Join(", ", result.Classes.Select(c => $"{c.Key} {c.Value}"))}); moved {result.Moved}, skipped {result.Skipped}"));
            foreach (string skipped in result.SkippedExamples)
                console.WriteLine($"  skipped {skipped}");
            return 0;
        });
        return command;
    }

    private static StoredAnnotatedImages SourceIn(IBlobStore store, string? source)
    {
        if (string.IsNullOrEmpty(source))
            return new StoredAnnotatedImages(store);
        int slash = source.IndexOf('/', StringComparison.Ordinal);
        string prefix = slash < 0 ? string.Empty : source[(slash + 1)..];
        return new StoredAnnotatedImages(store, slash < 0 ? source : source[..slash], prefix.Length == 0 || prefix.EndsWith('/') ? prefix : prefix + "/");
    }
}
