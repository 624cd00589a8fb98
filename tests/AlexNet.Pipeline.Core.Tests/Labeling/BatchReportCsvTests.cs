using System.Text.Json;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Pipeline.Tests.Labeling;

/// <summary><c>labels.csv</c> is opened in spreadsheets: class names and paths come from uploads and model packages.</summary>
public sealed class BatchReportCsvTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), $"alexnet-csv-{Guid.NewGuid():N}");

    [Fact]
    public async Task CellsASpreadsheetWouldRunAsFormulasAreWrittenAsText()
    {
        var store = new LocalFolderBlobStore(root);
        await WriteRecordAsync(store, "@cmd.png", "=HYPERLINK(\"http://example.invalid\",\"click\")", "+1", "-2", "plain");

        await new BatchReport(store, TimeProvider.System).WriteAsync("csv", 0.5);

        string csv = (await store.DownloadAsync(LabelPaths.LabelsContainer, "csv/labels.csv"))!.Content.ToString();
        string row = csv.Split('\n')[1];
        Assert.StartsWith("'@cmd.png,", row, StringComparison.Ordinal);
        Assert.Contains(",\"'=HYPERLINK(\"\"http://example.invalid\"\",\"\"click\"\")\",", row, StringComparison.Ordinal);
        Assert.Contains(",'+1,", row, StringComparison.Ordinal);
        Assert.Contains(",'-2,", row, StringComparison.Ordinal);
        Assert.Contains(",plain,", row, StringComparison.Ordinal);
        Assert.DoesNotContain(",=", csv, StringComparison.Ordinal);
        Assert.DoesNotContain(",\"=", csv, StringComparison.Ordinal);
    }

    private static async Task WriteRecordAsync(IBlobStore store, string path, params string[] labels)
    {
        var record = new LabelRecord(
            "csv",
            new ImageIdentity("incoming", path, "\"0x1\"", new string('a', 64), 10),
            new ModelIdentity("v1", new string('b', 64)),
            "center",
            [.. labels.Select((label, i) => new LabelScore(label, i, 0.2f))],
            DateTimeOffset.UnixEpoch);
        await store.UploadAsync(LabelPaths.LabelsContainer, LabelPaths.Record("csv", path), BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(record, LabelJsonContext.Default.LabelRecord)), "application/json");
    }

    public void Dispose()
    {
        if (Directory.Exists(root))
            Directory.Delete(root, recursive: true);
    }
}
