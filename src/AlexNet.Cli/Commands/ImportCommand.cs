using System.CommandLine;
using AlexNet.Model.Data;

namespace AlexNet.Cli.Commands;

/// <summary><c>alexnet import fashion-mnist</c>: IDX files to class folders of PNGs.</summary>
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
        return new Command("import", "Convert a known data set into class folders (<root>/<class>/<image>).") { fashion };
    }
}
