using System.Text.Json;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Metering;
using AlexNet.Pipeline.Storage;
using Microsoft.Extensions.Time.Testing;

namespace AlexNet.Pipeline.Tests.Labeling;

/// <summary>
/// The batch report from the chunks' record files gives the same files as the report from every record, without
/// reading a record; and a chunk without its file (an earlier worker's) leaves the report to the records.
/// </summary>
public sealed class BatchReportFromChunksTests : IDisposable
{
    private const string Batch = "chunked";

    private readonly string root = Path.Combine(Path.GetTempPath(), $"alexnet-chunk-report-{Guid.NewGuid():N}");
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 12, 7, 8, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task TheChunksGiveTheSameFilesAsTheRecordsWithoutReadingARecord()
    {
        var counting = new CountingBlobStore(new LocalFolderBlobStore(root), new RequestCounter(), perBlob: true);
        // Three chunks in name order: 3 labels; 2 labels (one under the review threshold) and a rejection; 1 label under it and a rejection.
        var chunks = new[]
        {
            (Labels: new[] { Label("a0.jpg", "cat", 0.9f), Label("a1.jpg", "dog", 0.8f), Label("a2.jpg", "cat", 0.7f) }, Rejected: Array.Empty<RejectedRecord>()),
            (Labels: new[] { Label("b0.jpg", "dog", 0.95f), Label("b2.jpg", "cat", 0.6f) }, Rejected: new[] { Rejected("b1.jpg", "NotAnImage") }),
            (Labels: new[] { Label("c0.jpg", "bird", 0.3f) }, Rejected: new[] { Rejected("c1.jpg", "TooManyBytes") }),
        };
        for (int i = 0; i < chunks.Length; i++)
        {
            foreach (LabelRecord label in chunks[i].Labels)
                await PutAsync(counting, LabelPaths.LabelsContainer, LabelPaths.Record(Batch, label.Image.Path[(Batch.Length + 1)..]), label, LabelJsonContext.Default.LabelRecord);
            foreach (RejectedRecord rejected in chunks[i].Rejected)
                await PutAsync(counting, LabelPaths.RejectedContainer, LabelPaths.Record(Batch, rejected.Image.Path[(Batch.Length + 1)..]), rejected, LabelJsonContext.Default.RejectedRecord);
            string chunk = PipelineNames.ChunkId(i);
            await PutAsync(counting, PipelineNames.RunsContainer, PipelineNames.ChunkRecordsBlob(Batch, chunk),
                new ChunkRecords(Batch, chunk, chunks[i].Labels, chunks[i].Rejected), LabelJsonContext.Default.ChunkRecords);
        }

        var report = new BatchReport(counting, time);
        BatchSummary fromRecords = await report.WriteAsync(Batch, minConfidence: 0.65);
        var expected = await ReadFilesAsync(counting);
        foreach (string file in expected.Keys)
            await counting.DeleteAsync(LabelPaths.LabelsContainer, LabelPaths.BatchFile(Batch, file));
        int recordReads = counting.ReadsIn(LabelPaths.LabelsContainer) + counting.ReadsIn(LabelPaths.RejectedContainer);

        BatchSummary? fromChunks = await report.WriteFromChunksAsync(Batch, chunks.Length, minConfidence: 0.65);

        Assert.NotNull(fromChunks);
        Assert.Equal(recordReads, counting.ReadsIn(LabelPaths.LabelsContainer) + counting.ReadsIn(LabelPaths.RejectedContainer));
        Assert.Equal(chunks.Length, counting.ReadsIn(PipelineNames.RunsContainer));
        Assert.Equal(JsonSerializer.Serialize(fromRecords, LabelJsonContext.Default.BatchSummary), JsonSerializer.Serialize(fromChunks, LabelJsonContext.Default.BatchSummary));
        Assert.Equal((8, 6, 2, 2), (fromChunks.Images, fromChunks.Labeled, fromChunks.Rejected, fromChunks.NeedsReview));
        Assert.Equal(new Dictionary<string, int> { ["cat"] = 3, ["dog"] = 2, ["bird"] = 1 }, fromChunks.Top1Distribution);
        Assert.Equal(new Dictionary<string, int> { ["NotAnImage"] = 1, ["TooManyBytes"] = 1 }, fromChunks.RejectionCodes);
        var actual = await ReadFilesAsync(counting);
        foreach (var (file, content) in expected)
            Assert.Equal(content, actual[file]);
        Assert.Equal(6, actual[LabelPaths.LabelsJsonl].Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(7, actual[LabelPaths.LabelsCsv].Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(["b2.jpg", "c0.jpg"], actual[LabelPaths.Review].Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonSerializer.Deserialize(line, LabelJsonContext.Default.LabelRecord)!.Image.Path[(Batch.Length + 1)..]));
    }

    [Fact]
    public async Task AChunkWithoutItsRecordsFileLeavesTheReportToTheRecords()
    {
        var store = new LocalFolderBlobStore(root);
        LabelRecord label = Label("a0.jpg", "cat", 0.9f);
        await PutAsync(store, LabelPaths.LabelsContainer, LabelPaths.Record(Batch, "a0.jpg"), label, LabelJsonContext.Default.LabelRecord);
        await PutAsync(store, PipelineNames.RunsContainer, PipelineNames.ChunkRecordsBlob(Batch, "c00000"), new ChunkRecords(Batch, "c00000", [label], []), LabelJsonContext.Default.ChunkRecords);

        BatchSummary? summary = await new BatchReport(store, time).WriteFromChunksAsync(Batch, chunks: 2, minConfidence: 0.5);

        Assert.Null(summary);
        Assert.Null(await store.GetEntryAsync(LabelPaths.LabelsContainer, LabelPaths.BatchFile(Batch, LabelPaths.Summary)));
        Assert.Null(await store.GetEntryAsync(LabelPaths.LabelsContainer, LabelPaths.BatchFile(Batch, LabelPaths.LabelsJsonl)));
    }

    [Fact]
    public async Task ABatchOfNoChunksWritesEmptyFilesAndAZeroSummary()
    {
        var store = new LocalFolderBlobStore(root);

        BatchSummary? summary = await new BatchReport(store, time).WriteFromChunksAsync(Batch, chunks: 0, minConfidence: 0.5);

        Assert.Equal((0, 0, 0), (summary!.Images, summary.Labeled, summary.NeedsReview));
        Assert.Equal(0, (await store.GetEntryAsync(LabelPaths.LabelsContainer, LabelPaths.BatchFile(Batch, LabelPaths.LabelsJsonl)))!.Size);
        Assert.StartsWith("path,etag,sha256,model,crop,label1,probability1,", (await store.DownloadAsync(LabelPaths.LabelsContainer, LabelPaths.BatchFile(Batch, LabelPaths.LabelsCsv)))!.Content.ToString(), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(root))
            Directory.Delete(root, recursive: true);
    }

    private LabelRecord Label(string name, string top1, float probability) => new(
        Batch,
        new ImageIdentity("incoming", $"{Batch}/{name}", $"\"0x{name.GetHashCode(StringComparison.Ordinal):x}\"", new string('a', 64), 100),
        new ModelIdentity("v1", new string('b', 64)),
        "center",
        [new LabelScore(top1, 0, probability), new LabelScore("other", 1, 1 - probability)],
        time.GetUtcNow());

    private RejectedRecord Rejected(string name, string code) =>
        new(Batch, new ImageIdentity("incoming", $"{Batch}/{name}", "\"0x1\"", "", 100), code, $"{name}: {code}", time.GetUtcNow());

    private static Task<string> PutAsync<T>(IBlobStore store, string container, string name, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        store.UploadAsync(container, name, BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(value, type)), "application/json");

    private static async Task<Dictionary<string, string>> ReadFilesAsync(IBlobStore store)
    {
        var files = new Dictionary<string, string>();
        foreach (string file in (string[])[LabelPaths.LabelsJsonl, LabelPaths.LabelsCsv, LabelPaths.Review])
            files[file] = (await store.DownloadAsync(LabelPaths.LabelsContainer, LabelPaths.BatchFile(Batch, file)))!.Content.ToString();
        return files;
    }
}
