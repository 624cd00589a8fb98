using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using AlexNet.Imaging;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Api;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Functions.Tests.Fixtures;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Labeling.Interchange;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Storage;
using AlexNet.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SkiaSharp;

namespace AlexNet.Pipeline.Functions.Tests;

/// <summary>
/// Label Studio's task JSON and CVAT's XML 1.1 for images: a batch's labels exported, hand-written exports of both tools
/// (LabelTools/) imported as training data on Azurite, and malformed exports refused with one line.
/// </summary>
public sealed class LabelToolFormatTests(DurableTestHost durable) : IClassFixture<DurableTestHost>, IAsyncLifetime
{
    private static readonly string[] Classes = ["shirt", "coat", "bag", "shoe"];

    private readonly PipelineServices pipeline = new();
    private readonly string batch = Azurite.Unique("lt");
    private readonly string version = Azurite.Unique("model");
    private readonly string dataset = Azurite.Unique("tools");
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 12, 7, 2, 0, 0, TimeSpan.Zero));
    private readonly Dictionary<string, byte[]> uploads = [];

    private PipelineApi Api => new(durable.Orchestrations, pipeline.Store, new ModelRegistry(pipeline.Store, time), time, NullLogger<PipelineApi>.Instance);

    private IBlobStore Store => pipeline.Store;

    [Fact]
    public async Task ABatchExportsAsLabelStudioTasksWithPredictions()
    {
        await SeedAsync();

        ApiResult<BinaryContent> all = await Api.ExportLabelsAsync(batch, AnnotationTools.LabelStudio);
        ApiResult<BinaryContent> review = await Api.ExportLabelsAsync(batch, AnnotationTools.LabelStudio, reviewOnly: true);

        Assert.Equal("application/json", all.Value!.ContentType);
        JsonArray tasks = JsonNode.Parse(all.Value.Bytes)!.AsArray();
        Assert.Equal(3, tasks.Count);
        JsonObject first = tasks[0]!.AsObject();
        Assert.Equal($"azure-blob://incoming/{batch}/a.png", (string)first["data"]!["image"]!);
        JsonObject prediction = first["predictions"]![0]!.AsObject();
        Assert.Equal(version, (string)prediction["model_version"]!);
        Assert.Equal(0.4, (double)prediction["score"]!, 5);
        JsonObject result = prediction["result"]![0]!.AsObject();
        Assert.Equal(("label", "image", "choices", "shirt"), ((string)result["from_name"]!, (string)result["to_name"]!, (string)result["type"]!, (string)result["value"]!["choices"]![0]!));
        Assert.Equal(2, JsonNode.Parse(review.Value!.Bytes)!.AsArray().Count);
    }

    [Fact]
    public async Task ABatchExportsAsCvatTagsOfFormat11()
    {
        await SeedAsync();

        ApiResult<BinaryContent> export = await Api.ExportLabelsAsync(batch, AnnotationTools.Cvat);

        Assert.Equal("application/xml", export.Value!.ContentType);
        XDocument document = XDocument.Load(new MemoryStream(export.Value.Bytes));
        XElement root = document.Root!;
        Assert.Equal("annotations", root.Name.LocalName);
        Assert.Equal("1.1", root.Element("version")!.Value);
        Assert.Equal("annotation", root.Element("meta")!.Element("task")!.Element("mode")!.Value);
        Assert.Equal(Classes, root.Element("meta")!.Element("task")!.Element("labels")!.Elements("label").Select(l => l.Element("name")!.Value));
        var images = root.Elements("image").ToList();
        Assert.Equal(["a.png", "b.png", "sub/c.png"], images.Select(i => i.Attribute("name")!.Value));
        Assert.Equal(["0", "1", "2"], images.Select(i => i.Attribute("id")!.Value));
        Assert.Equal(("coat", "auto"), (images[1].Element("tag")!.Attribute("label")!.Value, images[1].Element("tag")!.Attribute("source")!.Value));
        Assert.All(images, i => Assert.Equal(("8", "8"), (i.Attribute("width")?.Value, i.Attribute("height")?.Value))); // read from each PNG's header
    }

    [Fact]
    public async Task ALabelStudioExportBecomesTrainingDataOnceAndAChangedClassMovesTheImage()
    {
        await SeedAsync();
        byte[] export = Sample("label-studio-export.json");

        ApiResult<AnnotationImportResult> first = await Api.ImportAnnotationsAsync(dataset, AnnotationTools.LabelStudio, export);
        ApiResult<AnnotationImportResult> again = await Api.ImportAnnotationsAsync(dataset, AnnotationTools.LabelStudio, export);
        List<string> afterTwice = await NamesAsync();
        string coat = Assert.Single(afterTwice, n => n.StartsWith($"{dataset}/coat/a-", StringComparison.Ordinal));
        byte[] copied = (await Store.DownloadAsync(PipelineNames.TrainingContainer, coat))!.Content.ToArray();
        IReadOnlyDictionary<string, string> metadata = (await Store.GetMetadataAsync(PipelineNames.TrainingContainer, coat))!;
        byte[] relabeled = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(export).Replace("[\"coat\"]", "[\"shoe\"]", StringComparison.Ordinal));
        ApiResult<AnnotationImportResult> changed = await Api.ImportAnnotationsAsync(dataset, AnnotationTools.LabelStudio, relabeled);
        List<string> afterChange = await NamesAsync();

        Assert.Equal(200, first.StatusCode);
        AnnotationImportResult result = first.Value!;
        Assert.Equal((4, 2, 2), (result.Images, result.Imported, result.Skipped));
        Assert.Equal(new Dictionary<string, int> { ["bag"] = 1, ["coat"] = 1 }, result.Classes);
        Assert.Contains(result.SkippedExamples, s => s.StartsWith($"azure-blob://incoming/{batch}/b.png: not annotated", StringComparison.Ordinal));
        Assert.Contains(result.SkippedExamples, s => s.StartsWith("/data/upload/7/5f2a9c1e-d.png: an address this pipeline cannot read", StringComparison.Ordinal));
        Assert.Equal(2, again.Value!.Imported);
        Assert.Equal(2, afterTwice.Count);
        Assert.Single(afterTwice, n => n.StartsWith($"{dataset}/bag/c-", StringComparison.Ordinal));
        Assert.Equal(uploads["a.png"], copied);
        Assert.Equal("label-studio", metadata["tool"]);
        Assert.Equal(Uri.EscapeDataString($"azure-blob://incoming/{batch}/a.png"), metadata["source"]);
        Assert.Equal(1, changed.Value!.Moved);
        Assert.Equal(2, afterChange.Count);
        Assert.Contains(afterChange, n => n.StartsWith($"{dataset}/shoe/a-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ACvatExportBecomesTrainingDataWithItsImagesFoundUnderTheSource()
    {
        await SeedAsync();

        ApiResult<AnnotationImportResult> result = await Api.ImportAnnotationsAsync(dataset, AnnotationTools.Cvat, Sample("cvat-export.xml"), source: $"incoming/{batch}");
        ApiResult<AnnotationImportResult> noSource = await Api.ImportAnnotationsAsync(dataset + "x", AnnotationTools.Cvat, Sample("cvat-export.xml"));

        Assert.Equal(200, result.StatusCode);
        // a.png: the manual tag wins over the automatic one; b.png has only a box; d.png nothing.
        Assert.Equal((4, 2, 2), (result.Value!.Images, result.Value.Imported, result.Value.Skipped));
        Assert.Equal(new Dictionary<string, int> { ["bag"] = 1, ["coat"] = 1 }, result.Value.Classes);
        Assert.Contains("b.png: no tag (only shapes)", result.Value.SkippedExamples);
        Assert.Equal(uploads["sub/c.png"], (await Store.DownloadAsync(PipelineNames.TrainingContainer, Assert.Single(await NamesAsync(), n => n.Contains("/bag/", StringComparison.Ordinal))))!.Content.ToArray());
        Assert.Equal(0, noSource.Value!.Imported);
        Assert.Contains(noSource.Value.SkippedExamples, s => s.Contains("no source container/prefix", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheExportsOfThisPipelineRoundTripThroughTheToolsFormats()
    {
        await SeedAsync();
        // What a person does in Label Studio: accept the prediction of each task as its annotation.
        JsonArray tasks = JsonNode.Parse((await Api.ExportLabelsAsync(batch, AnnotationTools.LabelStudio)).Value!.Bytes)!.AsArray();
        foreach (JsonObject task in tasks.Cast<JsonObject>())
            task["annotations"] = new JsonArray(new JsonObject { ["result"] = task["predictions"]![0]!["result"]!.DeepClone(), ["was_cancelled"] = false });
        // What a person does in CVAT: leave the automatic tags as they are.
        byte[] cvat = (await Api.ExportLabelsAsync(batch, AnnotationTools.Cvat)).Value!.Bytes;

        AnnotationImportResult fromLabelStudio = (await Api.ImportAnnotationsAsync(dataset, AnnotationTools.LabelStudio, Encoding.UTF8.GetBytes(tasks.ToJsonString()))).Value!;
        AnnotationImportResult fromCvat = (await Api.ImportAnnotationsAsync(dataset + "-cvat", AnnotationTools.Cvat, cvat, $"incoming/{batch}/")).Value!;

        var expected = new Dictionary<string, int> { ["coat"] = 1, ["shirt"] = 2 };
        Assert.Equal((3, 0), (fromLabelStudio.Imported, fromLabelStudio.Skipped));
        Assert.Equal(expected, fromLabelStudio.Classes);
        Assert.Equal((3, 0), (fromCvat.Imported, fromCvat.Skipped));
        Assert.Equal(expected, fromCvat.Classes);
        await DeleteAsync(dataset + "-cvat/");
    }

    [Theory]
    [InlineData(AnnotationTools.LabelStudio, "label-studio-not-array.json", "not a Label Studio JSON export: it must be an array of tasks")]
    [InlineData(AnnotationTools.LabelStudio, "label-studio-bad-result.json", "not a Label Studio JSON export: task 1, annotation 1 has no 'result' array")]
    [InlineData(AnnotationTools.LabelStudio, "label-studio-truncated.json", "not a Label Studio JSON export: the JSON does not parse")]
    [InlineData(AnnotationTools.LabelStudio, "cvat-export.xml", "not a Label Studio JSON export: the JSON does not parse")]
    [InlineData(AnnotationTools.Cvat, "cvat-wrong-root.xml", "not a CVAT XML export: the root element is <dataset>, not <annotations>")]
    [InlineData(AnnotationTools.Cvat, "cvat-image-without-name.xml", "not a CVAT XML export: the <image> on line 2 has no name")]
    [InlineData(AnnotationTools.Cvat, "cvat-doctype.xml", "not a CVAT XML export: For security reasons DTD is prohibited")]
    [InlineData(AnnotationTools.Cvat, "cvat-video.xml", "a CVAT for video export (<track>)")]
    [InlineData(AnnotationTools.Cvat, "label-studio-export.json", "not a CVAT XML export:")]
    public async Task AMalformedExportIsRefusedWithOneLineThatSaysWhy(string tool, string sample, string expected)
    {
        ApiResult<AnnotationImportResult> result = await Api.ImportAnnotationsAsync(dataset, tool, Sample(sample), $"incoming/{batch}");

        Assert.Equal(400, result.StatusCode);
        Assert.StartsWith(expected, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', result.Error!);
        Assert.Empty(await NamesAsync());
    }

    [Fact]
    public async Task AnImportReadsOnlyUploadAndTrainingImages()
    {
        await Store.UploadAsync(PipelineNames.ModelsContainer, $"{version}/weights.bin", BinaryData.FromBytes(SampleImages.Solid(ImageFormat.Png, 8, 8, SKColors.Red)));
        byte[] export = Encoding.UTF8.GetBytes($$$"""[{"data":{"image":"azure-blob://models/{{{version}}}/weights.bin"},"annotations":[{"result":[{"type":"choices","value":{"choices":["coat"]}}]}]}]""");

        AnnotationImportResult result = (await Api.ImportAnnotationsAsync(dataset, AnnotationTools.LabelStudio, export)).Value!;
        ApiResult<AnnotationImportResult> badSource = await Api.ImportAnnotationsAsync(dataset, AnnotationTools.Cvat, Sample("cvat-export.xml"), "models/x");

        Assert.Equal(0, result.Imported);
        Assert.Contains("container 'models' is not one images are imported from", result.SkippedExamples[0], StringComparison.Ordinal);
        Assert.Equal(400, badSource.StatusCode);
        await Store.DeleteAsync(PipelineNames.ModelsContainer, $"{version}/weights.bin");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await DeleteAsync(dataset + "/");
        await pipeline.DisposeAsync();
    }

    private byte[] Sample(string file) =>
        Encoding.UTF8.GetBytes(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "LabelTools", file)).Replace("BATCH", batch, StringComparison.Ordinal));

    /// <summary>Three labeled uploads of a batch (a.png shirt 0.40, b.png coat 0.95, sub/c.png shirt 0.30) and its report at minConfidence 0.5.</summary>
    private async Task SeedAsync()
    {
        var manifest = new ModelManifest
        {
            Version = version,
            Classes = Classes,
            InputSize = 64,
            BaseSize = 73,
            Mean = [120f, 115f, 100f],
            WeightsSha256 = new string('0', 64),
            CreatedAt = time.GetUtcNow(),
        };
        await Store.CreateIfAbsentAsync(PipelineNames.ModelsContainer, $"{version}/{ModelPackage.ManifestFileName}", BinaryData.FromBytes(manifest.ToJson()));
        await LabelAsync("a.png", SKColors.Red, ("shirt", 0.40f), ("coat", 0.35f));
        await LabelAsync("b.png", SKColors.Green, ("coat", 0.95f), ("shirt", 0.02f));
        await LabelAsync("sub/c.png", SKColors.Blue, ("shirt", 0.30f), ("bag", 0.25f));
        await new BatchReport(Store, time).WriteAsync(batch, 0.5);
    }

    private async Task LabelAsync(string path, SKColor color, params (string Label, float P)[] top)
    {
        byte[] bytes = SampleImages.Solid(ImageFormat.Png, 8, 8, color);
        uploads[path] = bytes;
        await Store.UploadAsync(PipelineNames.IncomingContainer, $"{batch}/{path}", BinaryData.FromBytes(bytes));
        BlobEntry entry = (await Store.GetEntryAsync(PipelineNames.IncomingContainer, $"{batch}/{path}"))!;
        var record = new LabelRecord(
            batch,
            new ImageIdentity(PipelineNames.IncomingContainer, entry.Name, entry.ETag, Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes.Length),
            new ModelIdentity(version, new string('0', 64)),
            "center",
            [.. top.Select(s => new LabelScore(s.Label, Array.IndexOf(Classes, s.Label), s.P))],
            time.GetUtcNow());
        await Store.UploadAsync(LabelPaths.LabelsContainer, LabelPaths.Record(batch, path), BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(record, LabelJsonContext.Default.LabelRecord)));
    }

    private async Task<List<string>> NamesAsync()
    {
        var names = new List<string>();
        await foreach (BlobEntry entry in Store.ListAsync(PipelineNames.TrainingContainer, dataset + "/"))
            names.Add(entry.Name);
        return names;
    }

    private async Task DeleteAsync(string prefix)
    {
        await foreach (BlobEntry entry in Store.ListAsync(PipelineNames.TrainingContainer, prefix))
            await Store.DeleteAsync(PipelineNames.TrainingContainer, entry.Name);
    }
}
