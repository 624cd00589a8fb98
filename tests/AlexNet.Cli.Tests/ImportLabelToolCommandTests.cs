namespace AlexNet.Cli.Tests;

/// <summary><c>alexnet import label-studio|cvat</c> into a storage layout folder, with the images from a local folder.</summary>
public sealed class ImportLabelToolCommandTests : IDisposable
{
    // A 1x1 grey PNG.
    private static readonly byte[] Png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg==");

    private readonly string root = Directory.CreateTempSubdirectory("alexnet-import-tools-").FullName;

    private string Images => Path.Combine(root, "images");

    private string Out => Path.Combine(root, "out");

    public ImportLabelToolCommandTests()
    {
        Directory.CreateDirectory(Path.Combine(Images, "sub"));
        File.WriteAllBytes(Path.Combine(Images, "a.png"), Png);
        File.WriteAllBytes(Path.Combine(Images, "sub", "c.png"), Png);
        File.WriteAllText(Path.Combine(root, "secret.png"), "not under the images folder");
    }

    [Fact]
    public async Task ACvatExportIsCopiedIntoTheTrainingSetOnceHoweverOftenItIsImported()
    {
        string export = Write("export.xml", """
            <?xml version="1.0" encoding="utf-8"?>
            <annotations>
              <version>1.1</version>
              <image id="0" name="a.png" width="1" height="1"><tag label="coat" source="manual"></tag></image>
              <image id="1" name="sub/c.png" width="1" height="1"><tag label="bag" source="auto"></tag></image>
              <image id="2" name="missing.png" width="1" height="1"><tag label="bag" source="manual"></tag></image>
              <image id="3" name="../secret.png" width="1" height="1"><tag label="bag" source="manual"></tag></image>
            </annotations>
            """);

        CliRun first = await CliRun.Of("import", "cvat", export, "--dataset", "shop", "--out", Out, "--images", Images);
        CliRun again = await CliRun.Of("import", "cvat", export, "--dataset", "shop", "--out", Out, "--images", Images);

        Assert.Equal(0, first.ExitCode);
        Assert.StartsWith("imported 2 of 4 images into training/shop/ (bag 1, coat 1); moved 0, skipped 2", first.Output, StringComparison.Ordinal);
        Assert.Contains("skipped missing.png: no file for it under", first.Output, StringComparison.Ordinal);
        Assert.Contains("skipped ../secret.png: the name has a '.' or '..' segment", first.Output, StringComparison.Ordinal);
        Assert.Equal(0, again.ExitCode);
        string[] files = Directory.GetFiles(Path.Combine(Out, "training", "shop"), "*", SearchOption.AllDirectories);
        Assert.Equal(2, files.Length);
        Assert.All(files, f => Assert.Equal(Png, File.ReadAllBytes(f)));
        Assert.Single(files, f => f.Contains($"{Path.DirectorySeparatorChar}coat{Path.DirectorySeparatorChar}a-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ALabelStudioExportFindsItsImagesByPathAndTheChangedClassMovesThem()
    {
        string Export(string label) => Write($"export-{label}.json",
            $$$"""[{"id":1,"data":{"image":"azure-blob://incoming/b1/sub/c.png"},"annotations":[{"id":1,"result":[{"from_name":"label","to_name":"image","type":"choices","value":{"choices":["{{{label}}}"]}}],"was_cancelled":false}]}]""");

        CliRun first = await CliRun.Of("import", "label-studio", Export("shirt"), "--dataset", "shop", "--out", Out, "--images", Images);
        CliRun moved = await CliRun.Of("import", "label-studio", Export("coat"), "--dataset", "shop", "--out", Out, "--images", Images);

        Assert.Equal(0, first.ExitCode);
        Assert.Contains("imported 1 of 1 images", first.Output, StringComparison.Ordinal);
        Assert.Contains("moved 1", moved.Output, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(Out, "training", "shop", "shirt")));
        Assert.Single(Directory.GetFiles(Path.Combine(Out, "training", "shop", "coat")));
    }

    [Theory]
    [InlineData("label-studio", "{\"data\": {}}", "not a Label Studio JSON export: it must be an array of tasks")]
    [InlineData("label-studio", "[{\"annotations\": []}]", "not a Label Studio JSON export: task 1 has no 'data' object")]
    [InlineData("cvat", "<annotations><image id=\"0\"/></annotations>", "not a CVAT XML export: the <image> on line 1 has no name")]
    [InlineData("cvat", "<annotations><image", "not a CVAT XML export:")]
    public async Task AMalformedExportIsOneLineAndExitCode2(string tool, string content, string expected)
    {
        string export = Write("bad", content);

        CliRun run = await CliRun.Of("import", tool, export, "--dataset", "shop", "--out", Out, "--images", Images);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(expected, run.Error, StringComparison.Ordinal);
        Assert.Single(run.Error.Trim().Split('\n'));
        Assert.False(Directory.Exists(Path.Combine(Out, "training")));
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    private string Write(string name, string content)
    {
        string path = Path.Combine(root, name);
        File.WriteAllText(path, content);
        return path;
    }
}
